import type { AuthProviderConfig } from '@tutti/config';
import type { ProviderProfile } from '../AccountService.ts';
import type { FlowChecks, ProviderClient } from './types.ts';

/** What every provider client shares: its configured entry, and the names read from it. */
export abstract class ConfiguredProvider<C extends AuthProviderConfig> implements ProviderClient {
  protected readonly cfg: C;

  constructor(cfg: C) {
    this.cfg = cfg;
  }

  get id(): string {
    return this.cfg.id;
  }
  get name(): string {
    return this.cfg.name;
  }
  get pkce(): boolean {
    return this.cfg.pkce;
  }

  abstract authorizationUrl(checks: FlowChecks): Promise<URL>;
  abstract finish(callbackUrl: URL, checks: FlowChecks): Promise<ProviderProfile>;
}
