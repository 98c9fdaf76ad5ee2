export { isUniqueViolation } from "../../lib/errors.js";
