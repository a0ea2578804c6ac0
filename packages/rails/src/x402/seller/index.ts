export { X402Seller, X402Rejection, X402SettlementError, type FacilitatorPort, type ReceiptReader, type X402AuthorizeRequest, type X402Hold, type X402Outcome, type X402SellerOptions, type X402Settlement } from './seller.ts';
export { makeOffer, paymentRequired, paymentRequiredV1, acceptsOffer, PAYMENT_IDENTIFIER, type Offer } from './offer.ts';
export { X402SettingsSchema, x402SettingsOf, atomicAmount, type X402Settings, type X402SettingsInput } from './settings.ts';
export { X402Payments, type PaymentRow, type PaymentStatus, type StoredAnswer } from './payments.ts';
