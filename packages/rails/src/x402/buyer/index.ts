export { X402Payer } from './x402-payer.ts';
