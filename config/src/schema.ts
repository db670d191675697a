import { z } from 'zod';
import { adminSection, webhooksSection } from './sections/admin.ts';
import { authSection, providerSchema } from './sections/auth.ts';
import { captionsSection } from './sections/captions.ts';
import { clusterSection, databaseSection, redisSection } from './sections/cluster.ts';
import { chatSection, dataSection, filesSection } from './sections/content.ts';
import { mediaSection, turnSection } from './sections/media.ts';
import { recordingSection } from './sections/recording.ts';
import { roomsSection } from './sections/rooms.ts';
import { metricsSection, serverSection, signalingSection } from './sections/server.ts';

// One typed Config object, validated once at start-up (see load.ts). Defaults live in the
// sections (sections/*.ts), so each says what its settings mean and what they may be; the
// order here is the order of the sections in the config.

export { providerSchema };

export const configSchema = z.object({
  server: serverSection,
  metrics: metricsSection,
  media: mediaSection,
  turn: turnSection,
  rooms: roomsSection,
  signaling: signalingSection,
  data: dataSection,
  chat: chatSection,
  files: filesSection,
  recording: recordingSection,
  auth: authSection,
  admin: adminSection,
  webhooks: webhooksSection,
  redis: redisSection,
  database: databaseSection,
  cluster: clusterSection,
  captions: captionsSection,
});

export type Config = z.infer<typeof configSchema>;
export type AuthProviderConfig = z.infer<typeof providerSchema>;
/** What callers may pass: any subset of sections and keys. */
export type ConfigInput = z.input<typeof configSchema>;
