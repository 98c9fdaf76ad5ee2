import { type ReactNode, useEffect } from "react";
import { cents, duration } from "./format.js";
import { navigate, usePath, useResource } from "./hooks.js";
import { AlertsPage } from "./operator/Alerts.js";
import { DashboardPage } from "./operator/Dashboard.js";
import { FleetPage } from "./operator/Fleet.js";
import { InvoicesPage } from "./operator/Invoices.js";
import { JobsPage } from "./operator/Jobs.js";
import { TenantsPage } from "./operator/Tenants.js";
import { ApiKeysPage } from "./pages/ApiKeys.js";
import { AuthPage } from "./pages/Auth.js";
import { BillingPage } from "./pages/Billing.js";
import { InstancePage } from "./pages/Instance.js";
import { InstancesPage } from "./pages/Instances.js";
import { LaunchPage } from "./pages/Launch.js";
import { SshKeysPage } from "./pages/SshKeys.js";
import { VolumesPage } from "./pages/Volumes.js";
import { WaitlistPage } from "./pages/Waitlist.js";
import { WebhooksPage } from "./pages/Webhooks.js";
import { type Me, useSession } from "./session.js";
import type { Balance } from "./types.js";
import { Link } from "./ui.js";

interface Page {
  path: string;
  label: string;
  render: (path: string) => ReactNode;
  /** Also every path under `path` ("/instances/" serves "/instances/{id}"); an exact match wins. */
  prefix?: boolean;
  /** Hidden from the navigation (reached from another page). */
  hidden?: boolean;
}

const customerPages: Page[] = [
  { path: "/instances", label: "Instances", render: () => <InstancesPage /> },
  { path: "/instances/new", label: "Launch", render: () => <LaunchPage />, hidden: true },
  {
    path: "/instances/",
    label: "Instance",
    render: (path) => <InstancePage key={path} id={decodeURIComponent(path.slice("/instances/".length))} />,
    hidden: true,
    prefix: true,
  },
  { path: "/volumes", label: "Volumes", render: () => <VolumesPage /> },
  { path: "/waitlist", label: "Waitlist", render: () => <WaitlistPage /> },
  { path: "/ssh-keys", label: "SSH keys", render: () => <SshKeysPage /> },
  { path: "/billing", label: "Billing", render: () => <BillingPage /> },
  { path: "/api-keys", label: "API keys", render: () => <ApiKeysPage /> },
  { path: "/webhooks", label: "Webhooks", render: () => <WebhooksPage /> },
];

const operatorPages: Page[] = [
  { path: "/operator", label: "Dashboard", render: () => <DashboardPage /> },
  { path: "/operator/fleet", label: "Fleet", render: () => <FleetPage /> },
  { path: "/operator/instances", label: "Instances", render: () => <InstancesPage operator /> },
  { path: "/operator/tenants", label: "Tenants", render: () => <TenantsPage /> },
  { path: "/operator/jobs", label: "Jobs", render: () => <JobsPage /> },
  { path: "/operator/invoices", label: "Invoices", render: () => <InvoicesPage /> },
  { path: "/operator/alerts", label: "Alerts", render: () => <AlertsPage /> },
  { path: "/operator/webhooks", label: "Webhooks", render: () => <WebhooksPage /> },
  { path: "/operator/api-keys", label: "API keys", render: () => <ApiKeysPage /> },
];

/** The balance on every customer page, not only Billing. */
function SidebarBalance() {
  const balance = useResource<Balance>("/billing/balance", 15000);
  if (!balance.data) return null;
  return (
    <Link to="/billing" className="sidebar-balance">
      Balance <span data-testid="sidebar-balance">{cents(balance.data.balance)}</span>
    </Link>
  );
}

/** Warns before auto-stop (the same condition as the billing.auto_stop_warning webhook) and when out of credit. */
function CreditBanner() {
  const balance = useResource<Balance>("/billing/balance", 15000);
  const b = balance.data;
  if (b?.billing_mode !== "prepaid") return null;
  const how = b.topups_enabled ? "Add credits on the Billing page" : "Ask your operator to grant credit";
  if (b.auto_stop_warning && b.runway_seconds !== null) {
    return (
      <div className="banner warn" role="alert" data-testid="credit-banner">
        Your balance ({cents(b.balance)}) lasts about {duration(b.runway_seconds)} more at{" "}
        {cents(b.burn_rate_usd_per_hour ?? "0")}/h; then running instances are stopped automatically. {how}.
      </div>
    );
  }
  if (!b.can_deploy) {
    return (
      <div className="banner" role="status" data-testid="credit-banner">
        Your balance is {cents(b.balance)}: not enough to launch. {how}.
      </div>
    );
  }
  return null;
}

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, true), [to]);
  return null;
}

function Shell({ me, pages, path }: { me: Me; pages: Page[]; path: string }) {
  const { signOut } = useSession();
  const page =
    pages.find((p) => p.path === path) ?? pages.find((p) => p.prefix && path.startsWith(p.path) && path !== p.path);
  if (!page) return <Redirect to={pages[0].path} />;
  const who = me.operator ? "Operator" : (me.tenant?.name ?? me.tenant?.contact_email ?? `Tenant ${me.tenant_id}`);
  return (
    <div className="shell">
      <aside className="sidebar">
        <div className="brand">
          <span className="logo" aria-hidden="true" />
          gpuplane
        </div>
        <nav aria-label="Main">
          {pages
            .filter((p) => !p.hidden)
            .map((p) => (
              <Link
                key={p.path}
                to={p.path}
                className={path === p.path || (p.path !== pages[0].path && path.startsWith(p.path)) ? "active" : ""}
              >
                {p.label}
              </Link>
            ))}
        </nav>
        <div className="who">
          <span data-testid="who">{who}</span>
          {me.operator ? null : <SidebarBalance />}
          <button
            type="button"
            className="link"
            onClick={() => {
              signOut();
              navigate("/login", true);
            }}
          >
            Log out
          </button>
        </div>
      </aside>
      <main className="content">
        {me.operator ? null : <CreditBanner />}
        {page.render(path)}
      </main>
    </div>
  );
}

export function App() {
  const path = usePath();
  const { me, checking } = useSession();
  if (checking) return <p className="loading">Loading…</p>;
  if (!me) {
    if (path === "/signup") return <AuthPage mode="signup" />;
    if (path === "/login/key") return <AuthPage mode="key" />;
    if (path !== "/login") return <Redirect to="/login" />;
    return <AuthPage mode="login" />;
  }
  return <Shell me={me} pages={me.operator ? operatorPages : customerPages} path={path} />;
}
