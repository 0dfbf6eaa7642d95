// Public face of the ingest stage: the factory and the types the composition root and observers use.
export {
  createIngest,
  planListeners,
  type Ingest,
  type IngestOptions,
  type IngestPorts,
  type IngestSnapshot,
  type InputSnapshot,
} from './ingest.js';
