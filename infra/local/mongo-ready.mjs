// Exit 0 when the MongoDB-protocol server at argv[2] answers a ping.
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { MongoClient } = require('mongodb');
const client = new MongoClient(process.argv[2], { serverSelectionTimeoutMS: 2000 });
try {
  await client.connect();
  await client.db('admin').command({ ping: 1 });
  await client.close();
  process.exit(0);
} catch {
  process.exit(1);
}
