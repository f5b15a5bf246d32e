// The tracker as main.ts boots it (config from the environment), except that its new stats
// consumer group starts at the topic's end rather than replaying all history during the run.
import { loadTrackerConfig } from '../../services/tracker/src/config';
import { startTracker } from '../../services/tracker/src/service';

async function main(): Promise<void> {
  const cfg = loadTrackerConfig();
  const tracker = await startTracker(cfg, {
    beforeConsumers: async (kafka) => {
      const admin = kafka.admin();
      await admin.connect();
      const ends = await admin.fetchTopicOffsets('email-events.v1');
      await admin.setOffsets({ groupId: cfg.STATS_GROUP_ID, topic: 'email-events.v1', partitions: ends.map((p) => ({ partition: p.partition, offset: p.high })) });
      await admin.disconnect();
    },
  });
  console.log(JSON.stringify({ port: tracker.port }));
  process.on('SIGTERM', () => {
    void tracker.stop().then(() => process.exit(0));
  });
}
void main();
