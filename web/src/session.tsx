import { createContext, type ReactNode, useCallback, useContext, useEffect, useState } from "react";
import { ApiError, forgetKey, isTransient, request, setUnauthorizedHandler, storedKey, storeKey } from "./api.js";
import type { Row } from "./format.js";

/** GET /api/v1/auth/whoami: who the stored key is. */
export interface Me {
  key_id: string;
  operator: boolean;
  tenant_id: number | null;
  tenant: (Row & { name?: string; contact_email?: string | null }) | null;
  scopes: string[];
  permissions: string[];
}

interface Session {
  me: Me | null;
  /** True until a stored key has been checked. */
  checking: boolean;
  signIn: (key: string) => Promise<Me>;
  signOut: () => void;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside SessionProvider");
  return session;
}

async function whoami(key: string): Promise<Me> {
  const res = await request<Me>("GET", "/auth/whoami", undefined, key);
  return res.data;
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null>(null);
  const [checking, setChecking] = useState(() => storedKey() !== null);

  const signOut = useCallback(() => {
    // End a console session on the server too (an API key used to log in is refused with 409 and stays valid).
    const key = storedKey();
    if (key) void request("POST", "/auth/logout", undefined, key).catch(() => undefined);
    forgetKey();
    setMe(null);
  }, []);

  const signIn = useCallback(async (key: string) => {
    const who = await whoami(key);
    if (who.tenant_id === null && !who.operator) {
      throw new ApiError(403, "FORBIDDEN", "this is a node agent's key; the console needs a customer or operator key");
    }
    storeKey(key);
    setMe(who);
    return who;
  }, []);

  useEffect(() => {
    setUnauthorizedHandler(signOut);
    const key = storedKey();
    if (!key) return;
    // A refused or unreadable answer (429, 5xx, no network) says nothing about the key: ask again rather than
    // log the person out. Only the server's verdict on the key (401, 403) forgets it.
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const check = () =>
      whoami(key)
        .then((who) => {
          if (!live) return;
          setMe(who);
          setChecking(false);
        })
        .catch((error) => {
          if (!live) return;
          if (isTransient(error)) {
            timer = setTimeout(check, Math.max(2, (error as ApiError).retryAfter ?? 0) * 1000);
            return;
          }
          forgetKey();
          setChecking(false);
        });
    void check();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [signOut]);

  return <SessionContext.Provider value={{ me, checking, signIn, signOut }}>{children}</SessionContext.Provider>;
}
