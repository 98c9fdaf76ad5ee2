-- Console log-ins made before session tokens existed were API keys labelled "console session" with an expiry:
-- mark them as sessions so they leave the tenants' key lists.
UPDATE "api_keys" SET "session" = true WHERE "label" = 'console session' AND "expires_at" IS NOT NULL AND "tenant_id" IS NOT NULL;
