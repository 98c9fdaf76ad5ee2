import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local stand-in for api.stripe.com: the few endpoints gpuplane calls, answering with Stripe's object shapes,
 * honouring Idempotency-Key (a repeat gets the first response). Tests point the official SDK at it.
 */
export class FakeStripe {
  server: Server;
  port = 0;
  readonly objects = new Map<string, any>();
  readonly requests: { method: string; path: string; body: Record<string, string> }[] = [];
  /** Invoices marked paid out of band (`POST /v1/invoices/{id}/pay` with paid_out_of_band=true). */
  readonly paidOutOfBand = new Set<string>();
  private replies = new Map<string, string>();

  constructor() {
    this.server = createServer((req, res) => {
      let raw = "";
      req.on("data", (chunk) => {
        raw += chunk;
      });
      req.on("end", () => {
        const body = Object.fromEntries(new URLSearchParams(raw));
        const path = (req.url ?? "").split("?")[0];
        this.requests.push({ method: req.method ?? "", path, body });
        const key = req.headers["idempotency-key"] as string | undefined;
        const replay = key ? this.replies.get(key) : undefined;
        let status = 200;
        let text = replay;
        if (!text) {
          const handled = this.handle(req.method ?? "GET", path, body);
          const result = handled ?? new StripeError(404, `Unrecognized request URL (${req.method} ${path}).`);
          status = result instanceof StripeError ? result.status : 200;
          text = JSON.stringify(result instanceof StripeError ? { error: result.error } : result);
          // Stripe saves the first response of a request its endpoint ran, errors included, and replays it.
          if (key && handled) this.replies.set(key, text);
        }
        res.writeHead(status, {
          "content-type": "application/json",
          "request-id": `req_${randomBytes(6).toString("hex")}`,
        });
        res.end(text);
      });
    });
  }

  async start() {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  stop() {
    return new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private id(prefix: string) {
    return `${prefix}_${randomBytes(8).toString("hex")}`;
  }

  private metadata(body: Record<string, string>) {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(body)) {
      const m = /^metadata\[(.+)\]$/.exec(k);
      if (m) out[m[1]] = v;
    }
    return out;
  }

  private handle(method: string, path: string, body: Record<string, string>): any {
    const now = Math.floor(Date.now() / 1000);
    if (method === "POST" && path === "/v1/customers") {
      const customer = {
        id: this.id("cus"),
        object: "customer",
        created: now,
        name: body.name ?? null,
        email: body.email ?? null,
        metadata: this.metadata(body),
        livemode: false,
      };
      this.objects.set(customer.id, customer);
      return customer;
    }
    if (method === "POST" && path === "/v1/invoices") {
      const invoice = {
        id: this.id("in"),
        object: "invoice",
        created: now,
        customer: body.customer,
        currency: body.currency ?? "usd",
        collection_method: body.collection_method ?? "charge_automatically",
        status: "draft",
        total: 0,
        amount_due: 0,
        amount_paid: 0,
        amount_remaining: 0,
        status_transitions: { finalized_at: null, paid_at: null, voided_at: null, marked_uncollectible_at: null },
        number: null,
        hosted_invoice_url: null,
        description: body.description ?? null,
        metadata: this.metadata(body),
        lines: { object: "list", data: [] as any[], has_more: false, url: "" },
        livemode: false,
      };
      this.objects.set(invoice.id, invoice);
      return invoice;
    }
    if (method === "POST" && path === "/v1/invoiceitems") {
      const item = {
        id: this.id("ii"),
        object: "invoiceitem",
        amount: Number(body.amount),
        currency: body.currency,
        customer: body.customer,
        description: body.description ?? null,
        invoice: body.invoice ?? null,
        metadata: this.metadata(body),
        livemode: false,
      };
      const invoice = item.invoice && this.objects.get(item.invoice);
      if (invoice) {
        invoice.lines.data.push(item);
        invoice.total += item.amount;
        invoice.amount_due += item.amount;
        invoice.amount_remaining += item.amount;
      }
      this.objects.set(item.id, item);
      return item;
    }
    const finalize = /^\/v1\/invoices\/([^/]+)\/finalize$/.exec(path);
    if (method === "POST" && finalize) {
      const invoice = this.objects.get(finalize[1]);
      if (!invoice) return noSuch("invoice", finalize[1]);
      if (invoice.status !== "draft") return new StripeError(400, "This invoice is already finalized.");
      invoice.status = "open";
      invoice.status_transitions.finalized_at = now;
      invoice.number = `GP-${invoice.id.slice(-6).toUpperCase()}`;
      invoice.hosted_invoice_url = `https://invoice.stripe.test/i/${invoice.id}`;
      // As Stripe does: an invoice with nothing due is paid as soon as it is finalized.
      if (invoice.amount_due === 0) this.markPaid(invoice, now, false);
      return invoice;
    }
    const pay = /^\/v1\/invoices\/([^/]+)\/pay$/.exec(path);
    if (method === "POST" && pay) {
      const invoice = this.objects.get(pay[1]);
      if (!invoice) return noSuch("invoice", pay[1]);
      if (invoice.status === "paid") return new StripeError(400, "Invoice is already paid", "invoice_already_paid");
      if (invoice.status !== "open") {
        return new StripeError(400, `You can only pay an invoice that is open. This invoice is ${invoice.status}.`);
      }
      // Only out-of-band payments are modelled: there are no payment methods here to charge.
      if (body.paid_out_of_band !== "true") {
        return new StripeError(402, "This customer has no attached payment source or default payment method.");
      }
      this.markPaid(invoice, now, true);
      return invoice;
    }
    if (method === "POST" && path === "/v1/checkout/sessions") {
      const session = {
        id: this.id("cs_test"),
        object: "checkout.session",
        created: now,
        mode: body.mode,
        customer: body.customer ?? null,
        client_reference_id: body.client_reference_id ?? null,
        amount_total:
          Number(body["line_items[0][price_data][unit_amount]"]) * Number(body["line_items[0][quantity]"] ?? 1),
        currency: body["line_items[0][price_data][currency]"],
        payment_status: "unpaid",
        status: "open",
        payment_intent: null,
        url: "",
        success_url: body.success_url,
        cancel_url: body.cancel_url,
        metadata: this.metadata(body),
        livemode: false,
      };
      session.url = `https://checkout.stripe.test/c/pay/${session.id}`;
      this.objects.set(session.id, session);
      return session;
    }
    return undefined;
  }

  /** The object has no out-of-band flag in current API versions; `outOfBand` is recorded in `paidOutOfBand`. */
  private markPaid(invoice: any, at: number, outOfBand: boolean) {
    if (outOfBand) this.paidOutOfBand.add(invoice.id);
    invoice.status = "paid";
    invoice.amount_paid = invoice.amount_due;
    invoice.amount_remaining = 0;
    invoice.status_transitions.paid_at = at;
  }

  /** The event Stripe would send when the customer pays (what the webhook endpoint receives). */
  event(type: string, object: any) {
    return {
      id: this.id("evt"),
      object: "event",
      api_version: "2025-01-01",
      created: Math.floor(Date.now() / 1000),
      type,
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      data: { object },
    };
  }
}

/** An error answer in Stripe's shape: `{error: {type, message, code?}}` with its HTTP status. */
class StripeError {
  readonly error: { type: string; message: string; code?: string };
  constructor(
    readonly status: number,
    message: string,
    code?: string,
  ) {
    const type = status === 402 ? "card_error" : "invalid_request_error";
    this.error = { type, message, ...(code ? { code } : {}) };
  }
}

const noSuch = (what: string, id: string) => new StripeError(404, `No such ${what}: '${id}'`, "resource_missing");
