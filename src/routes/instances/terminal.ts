import { upgradeWebSocket } from "@hono/node-server";
import { z } from "@hono/zod-openapi";
import { closeCodes } from "../../domain/terminal/terminals.js";
import { claimTicket, issueTicket, TICKET_TTL_MS } from "../../domain/terminal/tickets.js";
import { createRoute, publicAccess, tenant } from "../../http/access.js";
import { appCtx, principal, router } from "../../http/env.js";
import { commonErrors, envelope, errorResponses, jsonResponse, ok } from "../../http/envelope.js";
import { badRequest } from "../../lib/errors.js";
import { InstanceId } from "./instances.js";

/**
 * The web terminal: a ticket (POST, with the caller's key or console session), then a WebSocket (GET, with the ticket:
 * a browser's WebSocket cannot send an API key header) that the server joins to a shell over SSH on the instance.
 */
export const terminalRoutes = router();
const tags = ["Instances"];

const TerminalTicket = z
  .object({
    ticket: z.string().openapi({ description: "Single use; never shown again" }),
    url: z.string().openapi({
      description: "Path of the terminal's WebSocket, ticket included: connect with ws:// or wss:// on this server",
      example: "/api/v1/instances/inst_01jd5x8k2m3n4p5q6r7s8t9v0w/terminal?ticket=…",
    }),
    expires_at: z.string().openapi({ description: `The ticket's expiry, ${TICKET_TTL_MS / 1000} s after issue` }),
    instance_id: z.string(),
  })
  .openapi("TerminalTicket");

terminalRoutes.openapi(
  createRoute({
    method: "post",
    path: "/instances/{id}/terminal",
    access: tenant("instances", "write", "instance_action"),
    tags,
    summary: "A ticket for a web terminal (a shell in the browser) on a running instance of your own",
    description:
      "Answers a single-use ticket, good for a minute, bound to the key or console session asking. Another tenant's " +
      "instance is 404; an operator key 403; an instance that is not running, has no SSH address or runs on the " +
      "simulator 409 with why; too many terminals open for the account 409.",
    request: { params: InstanceId },
    responses: { 201: jsonResponse(envelope(TerminalTicket), "Ticket issued"), ...commonErrors, ...errorResponses },
  }),
  async (c) => {
    const issued = await issueTicket(appCtx(c), principal(c), c.req.valid("param").id);
    const id = encodeURIComponent(issued.instance.id);
    return ok(
      c,
      TerminalTicket,
      {
        ticket: issued.ticket,
        url: `/api/v1/instances/${id}/terminal?ticket=${encodeURIComponent(issued.ticket)}`,
        expires_at: issued.expiresAt.toISOString(),
        instance_id: issued.instance.id,
      },
      201,
    );
  },
);

terminalRoutes.openapi(
  createRoute({
    method: "get",
    path: "/instances/{id}/terminal",
    access: publicAccess,
    tags,
    summary: "The web terminal's WebSocket (upgrade with the ticket from POST …/terminal)",
    description:
      'Browser → server: text frames `{"type":"input","data":"ls\\r"}` and `{"type":"resize","cols":120,' +
      '"rows":40}`. Server → browser: binary frames of terminal output, and text frames `{"type":"status",' +
      '"state":"connecting"|"connected"|"closed","message":…}`. The socket closes when the shell exits (1000), the ' +
      "instance leaves running (4001), the key or console session ends (4003), after 30 idle minutes (4008), or when " +
      "the instance cannot be reached (4010). A missing, used or expired ticket is 401 and the upgrade is refused.",
    request: {
      params: InstanceId,
      query: z.object({ ticket: z.string().max(200).optional() }),
    },
    responses: {
      101: { description: "Switching Protocols: the terminal" },
      ...commonErrors,
      ...errorResponses,
    },
  }),
  async (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw badRequest("this is the web terminal's WebSocket: connect with a WebSocket client to the url from POST");
    }
    const ctx = appCtx(c);
    const claim = await claimTicket(ctx, c.req.valid("query").ticket ?? "", c.req.valid("param").id);
    const terminals = ctx.services.terminal;
    return upgradeWebSocket(c, {
      onOpen: (_event, ws) => {
        void terminals.attach(claim, {
          send: (data) => ws.send(data as Uint8Array<ArrayBuffer> | string),
          close: (code, reason) => ws.close(code, reason),
        });
      },
      onMessage: (event) => {
        if (typeof event.data === "string") terminals.message(claim.sessionId, event.data);
      },
      onClose: () => terminals.close(claim.sessionId, closeCodes.browserLeft, "the browser closed the terminal"),
    }) as never;
  },
);
