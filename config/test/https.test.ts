import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, envName } from '@tutti/config';

// Issue #10: HTTPS on a second port, named by the config's env rule.

test('HTTPS settings: default port 3443, 0 turns it off, env names follow the path', () => {
  const defaults = loadConfig({}, {});
  assert.equal(defaults.server.httpsPort, 3443);
  assert.equal(defaults.server.tlsCertFile, undefined);
  assert.equal(defaults.server.tlsKeyFile, undefined);

  assert.equal(envName(['server', 'httpsPort']), 'TUTTI_SERVER_HTTPS_PORT');
  const c = loadConfig(
    {},
    {
      TUTTI_SERVER_HTTPS_PORT: '0',
      TUTTI_SERVER_TLS_CERT_FILE: '/etc/tutti/cert.pem',
      TUTTI_SERVER_TLS_KEY_FILE: '/etc/tutti/key.pem',
    },
  );
  assert.equal(c.server.httpsPort, 0);
  assert.equal(c.server.tlsCertFile, '/etc/tutti/cert.pem');
  assert.equal(c.server.tlsKeyFile, '/etc/tutti/key.pem');
  assert.throws(() => loadConfig({ server: { httpsPort: 70000 } }, {}), /server\.httpsPort/);
});
