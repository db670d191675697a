/** The signed-in account (cookie session) and the configured login providers. */

export interface Account {
  id: string;
  email: string | null;
  name: string;
  hasPassword: boolean;
  providers: string[];
}

export interface LoginProvider {
  id: string;
  name: string;
}

/** JSON request to /api/auth; a refusal throws "CODE: message" (errorCodeOf/explain read it). */
async function authRequest<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`/api/auth/${path}`, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return undefined as T;
  const data = (await res.json().catch(() => ({}))) as { error?: string; message?: string };
  if (!res.ok) throw new Error(`${data.error ?? 'INTERNAL'}: ${data.message ?? res.statusText}`);
  return data as T;
}

export class AccountState {
  user = $state<Account | null>(null);
  providers = $state<LoginProvider[]>([]);
  guests = $state(true);
  /** False until the first /me answer (the lobby waits before showing the forms). */
  loaded = $state(false);

  /** `changed`: after a login or logout (the signaling socket reconnects to carry the session). */
  constructor(private readonly changed: () => void = () => undefined) {}

  async load(): Promise<void> {
    try {
      const [me, list] = await Promise.all([
        authRequest<{ user: Account | null }>('GET', 'me'),
        authRequest<{ guests: boolean; providers: LoginProvider[] }>('GET', 'providers'),
      ]);
      this.user = me.user;
      this.providers = list.providers;
      this.guests = list.guests;
    } catch {
      // A server without accounts (or offline): stay a guest.
    } finally {
      this.loaded = true;
    }
  }

  async signup(email: string, password: string, name?: string): Promise<void> {
    const r = await authRequest<{ user: Account }>('POST', 'signup', {
      email,
      password,
      ...(name ? { name } : {}),
    });
    this.user = r.user;
    this.changed();
  }

  async login(email: string, password: string): Promise<void> {
    this.user = (await authRequest<{ user: Account }>('POST', 'login', { email, password })).user;
    this.changed();
  }

  async logout(): Promise<void> {
    await authRequest<void>('POST', 'logout');
    this.user = null;
    this.changed();
  }

  /** Where a provider button sends the browser (comes back to the page we are on). */
  providerLoginUrl(id: string): string {
    const back = location.pathname + location.hash;
    return `/api/auth/${encodeURIComponent(id)}/login?return=${encodeURIComponent(back)}`;
  }
}
