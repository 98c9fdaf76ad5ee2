import { type FormEvent, useMemo, useState } from "react";
import { ApiError, api } from "../api.js";
import { cents, dollars } from "../format.js";
import { navigate, useResource } from "../hooks.js";
import type { Image, Offer, Plan, SshKey } from "../types.js";
import { ActionButton, ErrorNote, Link, PageHeader } from "../ui.js";

/** One shape for the console's offer cards, from the 001 seed's offers or, where none are listed, the 000 seed's plans. */
interface Choice {
  id: string;
  /** The id the instances route is asked with: the plan id. */
  launchId: string;
  gpuModel: string;
  gpuCount: number;
  title: string;
  detail: string;
  price: string;
  regions: { id: string; available: boolean }[];
  available: boolean;
}

function describe(
  gpu: { count: number; model: string; memory_gb: number },
  title: string,
  specs: Plan | Offer["specs"],
) {
  return [
    title.includes(gpu.model) ? null : `${gpu.count}× ${gpu.model} ${gpu.memory_gb} GB`,
    `${specs.vcpus} vCPU`,
    `${specs.ram_gb} GB RAM`,
    `${specs.disk_gb} GB disk`,
  ]
    .filter(Boolean)
    .join(" · ");
}

function fromOffer(offer: Offer): Choice {
  return {
    id: offer.cluster_type,
    launchId: offer.plan_id,
    gpuModel: offer.gpu.model,
    gpuCount: offer.gpu.count,
    title: offer.name,
    detail: describe(offer.gpu, offer.name, offer.specs),
    price: offer.price_per_hour,
    regions: offer.regions.map((r) => ({ id: r.region, available: r.available })),
    available: offer.available && offer.available_count !== 0,
  };
}

function fromPlan(plan: Plan): Choice {
  const gpu = { count: plan.gpu_count, model: plan.gpu_type, memory_gb: plan.gpu_memory_gb };
  return {
    id: plan.cluster_type,
    launchId: plan.id,
    gpuModel: plan.gpu_type,
    gpuCount: plan.gpu_count,
    title: plan.name,
    detail: describe(gpu, plan.name, plan),
    price: plan.price_per_hour,
    regions: [],
    available: plan.available && plan.available_count !== 0,
  };
}

interface WaitlistOffer {
  instanceType: string;
  region: string;
  deploy: { image: string; hostname: string; ssh_key_ids: string[] };
}

/** The 409 for capacity names the waitlist entry that would serve the same request (an extra field of the error). */
function waitlistPointer(error: unknown): { instance_type?: string; region?: string } | undefined {
  if (!(error instanceof ApiError) || error.status !== 409) return undefined;
  const pointer = error.details.waitlist;
  return pointer && typeof pointer === "object" ? (pointer as { instance_type?: string; region?: string }) : undefined;
}

/** Images list the GPU models they support; an empty list means any. */
function fits(image: Image, choice: Choice | undefined): boolean {
  const gpus = image.compatible_gpus;
  if (!choice?.gpuModel || gpus.length === 0) return true;
  return gpus.some((g) => choice.gpuModel.toLowerCase().includes(g.toLowerCase()));
}

interface Filters {
  model: string;
  count: string;
  region: string;
  maxPrice: string;
}

const noFilters: Filters = { model: "", count: "", region: "", maxPrice: "" };

/** Offers that match every filter set; an offer without listed regions (a plan) is not ruled out by region. */
function matches(choice: Choice, f: Filters): boolean {
  if (f.model && choice.gpuModel !== f.model) return false;
  if (f.count && choice.gpuCount !== Number(f.count)) return false;
  if (f.region && choice.regions.length > 0 && !choice.regions.some((r) => r.id === f.region)) return false;
  const max = Number(f.maxPrice);
  if (f.maxPrice.trim() !== "" && Number.isFinite(max) && dollars(choice.price) > max) return false;
  return true;
}

const sorted = <T,>(values: Iterable<T>) => [...new Set(values)].sort();

/** GPU model, count, region and a price ceiling, narrowing the offers shown. */
function OfferFilters({
  choices,
  filters,
  onChange,
}: {
  choices: Choice[];
  filters: Filters;
  onChange: (f: Filters) => void;
}) {
  const set = (field: keyof Filters) => (e: { target: { value: string } }) =>
    onChange({ ...filters, [field]: e.target.value });
  const models = sorted(choices.map((c) => c.gpuModel));
  const counts = [...new Set(choices.map((c) => c.gpuCount))].sort((a, b) => a - b);
  const regions = sorted(choices.flatMap((c) => c.regions.map((r) => r.id)));
  return (
    <fieldset className="filters" aria-label="Filter offers">
      <label>
        GPU model
        <select value={filters.model} onChange={set("model")}>
          <option value="">Any</option>
          {models.map((m) => (
            <option key={m} value={m}>
              {m}
            </option>
          ))}
        </select>
      </label>
      <label>
        GPUs
        <select value={filters.count} onChange={set("count")}>
          <option value="">Any</option>
          {counts.map((n) => (
            <option key={n} value={n}>
              {n}×
            </option>
          ))}
        </select>
      </label>
      {regions.length > 0 && (
        <label>
          Region
          <select value={filters.region} onChange={set("region")}>
            <option value="">Any</option>
            {regions.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
      )}
      <label>
        Max $ / hr
        <input
          type="number"
          min={0}
          step="0.01"
          inputMode="decimal"
          placeholder="Any"
          value={filters.maxPrice}
          onChange={set("maxPrice")}
        />
      </label>
      {JSON.stringify(filters) !== JSON.stringify(noFilters) && (
        <button type="button" className="link" onClick={() => onChange(noFilters)}>
          Clear filters
        </button>
      )}
    </fieldset>
  );
}

/** A name for the waitlist's deploy, which needs one, when the form left it empty (as the server does for launches). */
function generatedName(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(3));
  return `gpu-${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

export function LaunchPage() {
  const offers = useResource<Offer[]>("/gpus/available");
  const plans = useResource<Plan[]>(offers.error || (offers.data && offers.data.length === 0) ? "/plans" : null);
  const images = useResource<Image[]>("/images");
  const keys = useResource<SshKey[]>("/ssh-keys");
  const [chosen, setChosen] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [waitlist, setWaitlist] = useState<WaitlistOffer>();
  const [busy, setBusy] = useState(false);
  const [filters, setFilters] = useState<Filters>(noFilters);

  const choices = useMemo(() => {
    const source =
      offers.data && offers.data.length > 0 ? offers.data.map(fromOffer) : (plans.data ?? []).map(fromPlan);
    const seen = new Set<string>();
    const list = source.flatMap((offer) => {
      if (seen.has(offer.id)) return [];
      seen.add(offer.id);
      return [offer];
    });
    // Cheapest first: a newcomer's sign-up credit pays for the first hour of the types at the top.
    return list.sort((a, b) => dollars(a.price) - dollars(b.price));
  }, [offers.data, plans.data]);
  const shown = choices.filter((c) => matches(c, filters));
  const selected = shown.find((o) => o.id === chosen);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!selected) {
      setError(new Error("pick a GPU offer first"));
      return;
    }
    const form = new FormData(event.currentTarget);
    const sshKeyIds = form.getAll("ssh_key").map(String);
    const region = String(form.get("region") ?? "");
    // The instances route takes the 000 seed's camelCase body.
    // No name: the server generates one.
    const name = String(form.get("name") ?? "").trim();
    const body = {
      ...(name ? { name } : {}),
      planId: selected.launchId,
      templateSlug: String(form.get("image") ?? ""),
      ...(sshKeyIds.length === 1 ? { sshKeyId: sshKeyIds[0] } : {}),
      ...(sshKeyIds.length > 1 ? { sshKeyIds } : {}),
      ...(region ? { region } : {}),
    };
    setBusy(true);
    setError(undefined);
    setWaitlist(undefined);
    try {
      await api.post("/instances", body);
      navigate("/instances");
    } catch (e) {
      setError(e);
      // No capacity: the server points at the waitlist, which can deploy this same request when GPUs free up.
      const pointer = waitlistPointer(e);
      if (pointer) {
        setWaitlist({
          instanceType: pointer.instance_type ?? selected.id,
          region: pointer.region ?? region,
          deploy: {
            image: body.templateSlug,
            hostname: name || generatedName(),
            ssh_key_ids: sshKeyIds,
          },
        });
      }
    } finally {
      setBusy(false);
    }
  }

  async function joinWaitlist(entry: WaitlistOffer) {
    await api.post("/waitlist", {
      instance_type: entry.instanceType,
      region: entry.region,
      mode: "auto_deploy",
      deploy: entry.deploy,
    });
    navigate("/waitlist");
  }

  return (
    <>
      <PageHeader title="Launch an instance" />
      <form onSubmit={submit} className="stack launch">
        <section>
          <h2>1. GPU</h2>
          <ErrorNote error={offers.error && plans.error} />
          {choices.length === 0 && !offers.loading && !plans.loading ? (
            <p className="empty">No GPU offers are listed right now.</p>
          ) : null}
          {choices.length > 0 && <OfferFilters choices={choices} filters={filters} onChange={setFilters} />}
          {choices.length > 0 && shown.length === 0 ? (
            <p className="empty" data-testid="no-matching-offers">
              No offer matches these filters.
            </p>
          ) : null}
          <div className="offers" role="radiogroup" aria-label="GPU offer">
            {shown.map((offer) => (
              <label key={offer.id} className={`offer ${chosen === offer.id ? "chosen" : ""}`}>
                <input
                  type="radio"
                  name="offer"
                  value={offer.id}
                  checked={chosen === offer.id}
                  onChange={() => setChosen(offer.id)}
                />
                <span className="offer-title">{offer.title}</span>
                <span className="muted small">{offer.id}</span>
                {offer.detail && <span className="small">{offer.detail}</span>}
                <span className="offer-price">
                  {cents(offer.price)}
                  <span className="muted small"> / hr</span>
                </span>
                {!offer.available && <span className="badge amber">sold out</span>}
              </label>
            ))}
          </div>
          {selected && selected.regions.length > 1 && (
            <label>
              Region
              <select
                key={`${selected.id}-${filters.region}`}
                name="region"
                defaultValue={
                  selected.regions.some((r) => r.id === filters.region)
                    ? filters.region
                    : (selected.regions.find((r) => r.available) ?? selected.regions[0]).id
                }
              >
                {selected.regions.map((r) => (
                  <option key={r.id} value={r.id}>
                    {r.available ? r.id : `${r.id} (sold out)`}
                  </option>
                ))}
              </select>
            </label>
          )}
        </section>
        <section>
          <h2>2. Image and name</h2>
          <div className="grid2">
            <label>
              Image
              <select name="image" required>
                {(images.data ?? [])
                  .filter((image) => fits(image, selected))
                  .map((image) => (
                    <option key={image.slug} value={image.slug}>
                      {image.name}
                    </option>
                  ))}
              </select>
            </label>
            <label>
              Name
              <input name="name" maxLength={63} placeholder="optional: a name is generated" />
            </label>
          </div>
        </section>
        <section>
          <h2>3. SSH keys</h2>
          {keys.data && keys.data.length === 0 ? (
            <p className="muted">
              No SSH keys yet. <Link to="/ssh-keys">Add one</Link> to log in to your instance.
            </p>
          ) : null}
          <div className="checks">
            {(keys.data ?? []).map((key, i) => (
              <label key={key.id} className="check">
                <input type="checkbox" name="ssh_key" value={key.id} defaultChecked={i === 0} />
                {key.name} <span className="muted small">{key.fingerprint}</span>
              </label>
            ))}
          </div>
        </section>
        <ErrorNote error={error} />
        {waitlist && (
          <div className="card waitlist-offer">
            <p>
              Join the waitlist for <strong>{waitlist.instanceType}</strong> in <strong>{waitlist.region}</strong>: the
              instance is launched as soon as capacity frees up.
            </p>
            <ActionButton tone="primary" onClick={() => joinWaitlist(waitlist)}>
              Join the waitlist
            </ActionButton>
          </div>
        )}
        <div className="row">
          <button type="submit" className="primary" disabled={busy}>
            Launch
          </button>
          <Link to="/instances" className="button">
            Cancel
          </Link>
        </div>
      </form>
    </>
  );
}
