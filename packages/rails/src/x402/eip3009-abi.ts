/**
 * @module x402/eip3009-abi
 * The EIP-3009 and ERC-20 functions and events the x402 rail calls or reads (the test token and
 * USDC share them).
 */
import { parseAbi } from 'viem';

export const EIP3009_ABI = parseAbi([
  'function balanceOf(address account) view returns (uint256)',
  'function authorizationState(address authorizer, bytes32 nonce) view returns (bool)',
  'function transferWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, uint8 v, bytes32 r, bytes32 s)',
  'function transfer(address to, uint256 value) returns (bool)',
  'event Transfer(address indexed from, address indexed to, uint256 value)',
]);
