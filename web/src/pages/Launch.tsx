import { type FormEvent, useMemo, useState } from "react";
import { ApiError, api } from "../api.js";
import { cents, dollars, pick, type Row, text, usd } from "../format.js";
import { navigate, useResource } from "../hooks.js";
import { ActionButton, ErrorNote, Link, PageHeader } from "../ui.js";

interface Offer {
  id: string;
  /** The id the instances route is asked with: the plan id where the catalog gives one. */
  launchId: string;
  gpuModel: string;
  title: string;
  detail: string;
  price: unknown;
  regions: { id: string; available: boolean }[];
  available: boolean;
}

function regionsOf(row: Row): Offer["regions"] {
  const raw = pick(row, "regions", "locations", "availability", "region", "location");
  const list = Array.isArray(raw) ? raw : raw && typeof raw === "string" ? [raw] : [];
  return list
    .map((r) =>
      typeof r === "string"
        ? { id: r, available: true }
        : {
            id: text(pick(r, "id", "region", "location", "code", "name"), ""),
            available: pick(r, "available") !== false,
          },
    )
    .filter((r) => r.id);
}

/** One shape for the 001 seed's offers (cluster types) and the 000 seed's plans. */
function toOffer(row: Row): Offer | null {
  const id = pick(row, "cluster_type", "plan_id", "planId", "id", "instance_type");
  if (!id) return null;
  // Offers nest their GPU and specs ({gpu: {model, count, memory_gb}, specs: {vcpus, …}}); plans are flat.
  const gpu = pick(row, "gpu");
  const specs = pick(row, "specs") ?? row;
  const gpus = pick(row, "gpu_count", "gpuCount") ?? pick(gpu, "count");
  const model = pick(row, "gpu_model", "gpuModel", "gpu_type") ?? (typeof gpu === "string" ? gpu : pick(gpu, "model"));
  const memory = pick(row, "gpu_memory_gb") ?? pick(gpu, "memory_gb");
  const vcpus = pick(specs, "vcpus", "cpu_cores");
  const ram = pick(specs, "ram_gb", "memory_gb");
  const disk = pick(specs, "disk_gb", "storage_gb");
  const title = text(pick(row, "name", "display_name", "description"), String(id));
  const details = [
    (gpus || model) && !title.includes(text(model, "GPU"))
      ? `${text(gpus, "1")}× ${text(model, "GPU")}${memory ? ` ${memory} GB` : ""}`
      : null,
    vcpus ? `${vcpus} vCPU` : null,
    ram ? `${ram} GB RAM` : null,
    disk ? `${disk} GB disk` : null,
  ].filter(Boolean);
  const availability = pick(row, "available", "in_stock", "is_available");
  const count = pick(row, "available_count", "availableCount", "capacity");
  return {
    id: String(id),
    launchId: String(pick(row, "plan_id", "planId") ?? id),
    gpuModel: text(model, ""),
    title,
    detail: details.join(" · "),
    price: pick(row, "price_per_hour", "price_per_hour_usd", "pricePerHour", "hourly_price", "price_usd"),
    regions: regionsOf(row),
    available: availability !== false && count !== 0,
  };
}

interface WaitlistOffer {
  instanceType: string;
  region: string;
  deploy: { image: unknown; hostname: unknown; ssh_key_ids: string[] };
}

const priceOf = (offer: Offer) => (typeof offer.price === "string" ? dollars(offer.price) : Number(offer.price ?? 0));

/** Images list the GPU models they support; an empty list means any. */
function fits(image: Row, offer: Offer | undefined): boolean {
  const gpus = pick(image, "compatible_gpus");
  if (!offer?.gpuModel || !Array.isArray(gpus) || gpus.length === 0) return true;
  return gpus.some((g) => offer.gpuModel.toLowerCase().includes(String(g).toLowerCase()));
}

export function LaunchPage() {
  const offers = useResource<Row[]>("/gpus/available");
  const plans = useResource<Row[]>(offers.error || (offers.data && offers.data.length === 0) ? "/plans" : null);
  const images = useResource<Row[]>("/images");
  const keys = useResource<Row[]>("/ssh-keys");
  const [chosen, setChosen] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [waitlist, setWaitlist] = useState<WaitlistOffer>();
  const [busy, setBusy] = useState(false);

  const choices = useMemo(() => {
    const source = offers.data && offers.data.length > 0 ? offers.data : (plans.data ?? []);
    const seen = new Set<string>();
    const list = source.flatMap((row) => {
      const offer = toOffer(row);
      if (!offer || seen.has(offer.id)) return [];
      seen.add(offer.id);
      return [offer];
    });
    // Cheapest first: a newcomer's sign-up credit pays for the first hour of the types at the top.
    return list.sort((a, b) => priceOf(a) - priceOf(b));
  }, [offers.data, plans.data]);
  const selected = choices.find((o) => o.id === chosen);

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
    const body: Record<string, unknown> = {
      name: String(form.get("name") ?? "").trim(),
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
      const pointer = e instanceof ApiError && e.status === 409 ? pick(e.details, "waitlist") : undefined;
      if (pointer) {
        setWaitlist({
          instanceType: text(pick(pointer, "instance_type"), selected.id),
          region: text(pick(pointer, "region"), region),
          deploy: {
            image: body.templateSlug,
            hostname: body.name,
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
          <div className="offers" role="radiogroup" aria-label="GPU offer">
            {choices.map((offer) => (
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
                  {typeof offer.price === "string" ? cents(offer.price) : usd(offer.price)}
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
                key={selected.id}
                name="region"
                defaultValue={(selected.regions.find((r) => r.available) ?? selected.regions[0]).id}
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
                  .map((image) => {
                    const id = text(pick(image, "slug", "id"));
                    return (
                      <option key={id} value={id}>
                        {text(pick(image, "name"), id)}
                      </option>
                    );
                  })}
              </select>
            </label>
            <label>
              Name
              <input name="name" required maxLength={63} placeholder="training-run-01" />
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
              <label key={String(key.id)} className="check">
                <input type="checkbox" name="ssh_key" value={String(key.id)} defaultChecked={i === 0} />
                {text(key.name)} <span className="muted small">{text(key.fingerprint, "")}</span>
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
