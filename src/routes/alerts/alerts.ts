import { z } from "@hono/zod-openapi";
import {
  type AlertRuleInput,
  createRule,
  deleteRule,
  listEvents,
  listRules,
  updateRule,
} from "../../domain/alerts/rules.js";
import { createRoute, operator } from "../../http/access.js";
import { appCtx, router } from "../../http/env.js";
import { commonErrors, envelope, jsonBody, jsonResponse, ok } from "../../http/envelope.js";
import { IntIdParam } from "../fleet/schemas.js";
import { AlertEvent, AlertRule, AlertRuleBody, AlertRulePatch, EventsQuery, eventView, ruleView } from "./schemas.js";

export const alertRoutes = router();
const tags = ["Alerts"];

const toInput = (b: Partial<z.infer<typeof AlertRuleBody>>): Partial<AlertRuleInput> => ({
  ...(b.name !== undefined && { name: b.name }),
  ...(b.type !== undefined && { type: b.type }),
  ...(b.threshold !== undefined && { threshold: b.threshold }),
  ...(b.window_seconds !== undefined && { windowSeconds: b.window_seconds }),
  ...(b.scope !== undefined && { scope: b.scope }),
  ...(b.enabled !== undefined && { enabled: b.enabled }),
});

alertRoutes.openapi(
  createRoute({
    method: "get",
    path: "/alerts/rules",
    access: operator("read"),
    tags,
    summary: "List alert rules (operator)",
    responses: { 200: jsonResponse(envelope(z.array(AlertRule)), "Rules"), ...commonErrors },
  }),
  async (c) => {
    return ok(c, z.array(AlertRule), (await listRules(appCtx(c))).map(ruleView), 200);
  },
);

alertRoutes.openapi(
  createRoute({
    method: "post",
    path: "/alerts/rules",
    access: operator("write"),
    tags,
    summary: "Create an alert rule: utilization_low, quota_breach or health_degraded, with threshold, window, scope",
    request: jsonBody(AlertRuleBody),
    responses: { 201: jsonResponse(envelope(AlertRule), "Created"), ...commonErrors },
  }),
  async (c) => {
    const row = await createRule(appCtx(c), toInput(c.req.valid("json")) as AlertRuleInput);
    return ok(c, AlertRule, ruleView(row), 201);
  },
);

alertRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/alerts/rules/{id}",
    access: operator("write"),
    tags,
    summary: "Update an alert rule (operator)",
    request: { params: IntIdParam, ...jsonBody(AlertRulePatch) },
    responses: { 200: jsonResponse(envelope(AlertRule), "Updated"), ...commonErrors },
  }),
  async (c) => {
    const row = await updateRule(appCtx(c), c.req.valid("param").id, toInput(c.req.valid("json")));
    return ok(c, AlertRule, ruleView(row), 200);
  },
);

alertRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/alerts/rules/{id}",
    access: operator("write"),
    tags,
    summary: "Delete an alert rule; its open events are resolved",
    request: { params: IntIdParam },
    responses: { 200: jsonResponse(envelope(AlertRule), "Deleted"), ...commonErrors },
  }),
  async (c) => {
    return ok(c, AlertRule, ruleView(await deleteRule(appCtx(c), c.req.valid("param").id)), 200);
  },
);

alertRoutes.openapi(
  createRoute({
    method: "get",
    path: "/alerts/events",
    access: operator("read"),
    tags,
    summary: "Alert events, newest first (limit 1–100, default 50)",
    request: { query: EventsQuery },
    responses: { 200: jsonResponse(envelope(z.array(AlertEvent)), "Events"), ...commonErrors },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const rows = await listEvents(appCtx(c), { limit: q.limit, status: q.status, ruleId: q.rule_id });
    return ok(c, z.array(AlertEvent), rows.map(eventView), 200);
  },
);
