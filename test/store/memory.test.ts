/** The store contract against the in-memory store. */
import { MemoryStore } from '../../src/store/memory-store.js';
import { runStoreContract } from './contract.js';

runStoreContract('memory', (o) => new MemoryStore(o));
