export { LocalFacilitator, FACILITATOR_RECEIPT_TIMEOUT_MS, type LocalFacilitatorOptions } from './local-facilitator.ts';
export { facilitatorHandler, serveFacilitator, serveFetch, FACILITATOR_BODY_BYTES_MAX, type FacilitatorServer } from './http.ts';
export { FacilitatorClient, type FacilitatorClientOptions } from './client.ts';
