// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title Tollgate's unidirectional payment-channel escrow for the MPP `session` intent (evm method).
/// @notice The payer deposits a token once; the payee is paid off-chain with cumulative EIP-712
///         vouchers `Voucher(bytes32 channelId,uint128 cumulativeAmount)` and settles or closes on
///         chain with the highest one. If the payee disappears, the payer asks to close and takes
///         the unsettled remainder back after a grace period. Written for Tollgate from the
///         mandatory core of draft-evm-session-00 (open, topUp, settle, close, requestClose, withdraw).
contract ChannelEscrow {
    struct Channel {
        address payer;
        address payee;
        address token;
        address authorizedSigner;
        uint128 deposit;
        uint128 settled;
        uint64 closeRequestedAt;
        bool finalized;
    }

    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 private constant VOUCHER_TYPEHASH = keccak256("Voucher(bytes32 channelId,uint128 cumulativeAmount)");
    /// Signatures with s above half the curve order are malleable twins of valid ones.
    uint256 private constant HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    /// Seconds between `requestClose` and `withdraw`; the spec asks for at least ten minutes.
    uint64 public immutable closeGracePeriod;
    /// Records are never deleted, so a finalized channel id can never be opened (and its vouchers replayed) again.
    mapping(bytes32 => Channel) public channels;

    event ChannelOpened(bytes32 indexed channelId, address indexed payer, address indexed payee, address token, address authorizedSigner, bytes32 salt, uint128 deposit);
    event ToppedUp(bytes32 indexed channelId, uint128 additionalDeposit, uint128 deposit);
    event Settled(bytes32 indexed channelId, uint128 cumulativeAmount, uint128 delta);
    event CloseRequested(bytes32 indexed channelId, uint64 requestedAt);
    event Closed(bytes32 indexed channelId, uint128 settled, uint128 refunded);
    event Withdrawn(bytes32 indexed channelId, uint128 refunded);

    error ChannelAlreadyExists();
    error ChannelNotFound();
    error ChannelFinalized();
    error NotPayee();
    error NotPayer();
    error AmountNotIncreasing();
    error AmountExceedsDeposit();
    error InvalidSignature();
    error CloseNotReady();
    error ZeroDeposit();
    error DepositOverflow();
    error TokenTransferFailed();
    error GracePeriodTooShort();

    constructor(uint64 gracePeriod) {
        if (gracePeriod < 600) revert GracePeriodTooShort();
        closeGracePeriod = gracePeriod;
    }

    function computeChannelId(address payer, address payee, address token, bytes32 salt, address authorizedSigner)
        public view returns (bytes32)
    {
        return keccak256(abi.encode(payer, payee, token, salt, authorizedSigner, address(this), block.chainid));
    }

    function domainSeparator() public view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, keccak256("EVM Payment Channel"), keccak256("1"), block.chainid, address(this)));
    }

    function voucherDigest(bytes32 channelId, uint128 cumulativeAmount) public view returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator(), keccak256(abi.encode(VOUCHER_TYPEHASH, channelId, cumulativeAmount))));
    }

    function open(address payee, address token, uint128 deposit, bytes32 salt, address authorizedSigner)
        external returns (bytes32 channelId)
    {
        if (deposit == 0) revert ZeroDeposit();
        channelId = computeChannelId(msg.sender, payee, token, salt, authorizedSigner);
        if (channels[channelId].payer != address(0)) revert ChannelAlreadyExists();
        channels[channelId] = Channel(msg.sender, payee, token, authorizedSigner, deposit, 0, 0, false);
        _pull(token, msg.sender, deposit);
        emit ChannelOpened(channelId, msg.sender, payee, token, authorizedSigner, salt, deposit);
    }

    function topUp(bytes32 channelId, uint128 additionalDeposit) external {
        Channel storage c = _live(channelId);
        if (msg.sender != c.payer) revert NotPayer();
        if (additionalDeposit == 0) revert ZeroDeposit();
        uint256 total = uint256(c.deposit) + additionalDeposit;
        if (total > type(uint128).max) revert DepositOverflow();
        c.deposit = uint128(total);
        // Adding funds cancels a pending forced close.
        c.closeRequestedAt = 0;
        _pull(c.token, msg.sender, additionalDeposit);
        emit ToppedUp(channelId, additionalDeposit, c.deposit);
    }

    function settle(bytes32 channelId, uint128 cumulativeAmount, bytes calldata signature) external {
        Channel storage c = _live(channelId);
        if (msg.sender != c.payee) revert NotPayee();
        _checkVoucher(channelId, c, cumulativeAmount, signature);
        uint128 delta = cumulativeAmount - c.settled;
        c.settled = cumulativeAmount;
        _push(c.token, c.payee, delta);
        emit Settled(channelId, cumulativeAmount, delta);
    }

    /// Pays the payee up to the final voucher and refunds the rest. A `cumulativeAmount` at or
    /// below what was settled forfeits the difference and needs no signature.
    function close(bytes32 channelId, uint128 cumulativeAmount, bytes calldata signature) external {
        Channel storage c = _live(channelId);
        if (msg.sender != c.payee) revert NotPayee();
        uint128 delta;
        if (cumulativeAmount > c.settled) {
            _checkVoucher(channelId, c, cumulativeAmount, signature);
            delta = cumulativeAmount - c.settled;
            c.settled = cumulativeAmount;
        }
        c.finalized = true;
        uint128 refund = c.deposit - c.settled;
        if (delta > 0) _push(c.token, c.payee, delta);
        if (refund > 0) _push(c.token, c.payer, refund);
        emit Closed(channelId, c.settled, refund);
    }

    function requestClose(bytes32 channelId) external {
        Channel storage c = _live(channelId);
        if (msg.sender != c.payer) revert NotPayer();
        if (c.closeRequestedAt == 0) c.closeRequestedAt = uint64(block.timestamp);
        emit CloseRequested(channelId, c.closeRequestedAt);
    }

    function withdraw(bytes32 channelId) external {
        Channel storage c = _live(channelId);
        if (msg.sender != c.payer) revert NotPayer();
        // Without the zero check a payer could skip requestClose and drain before the payee settles.
        if (c.closeRequestedAt == 0 || block.timestamp < uint256(c.closeRequestedAt) + closeGracePeriod) revert CloseNotReady();
        c.finalized = true;
        uint128 refund = c.deposit - c.settled;
        if (refund > 0) _push(c.token, c.payer, refund);
        emit Withdrawn(channelId, refund);
    }

    function _live(bytes32 channelId) private view returns (Channel storage c) {
        c = channels[channelId];
        if (c.payer == address(0)) revert ChannelNotFound();
        if (c.finalized) revert ChannelFinalized();
    }

    function _checkVoucher(bytes32 channelId, Channel storage c, uint128 cumulativeAmount, bytes calldata signature) private view {
        if (cumulativeAmount <= c.settled) revert AmountNotIncreasing();
        if (cumulativeAmount > c.deposit) revert AmountExceedsDeposit();
        address expected = c.authorizedSigner == address(0) ? c.payer : c.authorizedSigner;
        if (_recover(voucherDigest(channelId, cumulativeAmount), signature) != expected) revert InvalidSignature();
    }

    function _recover(bytes32 digest, bytes calldata signature) private pure returns (address signer) {
        if (signature.length != 65) revert InvalidSignature();
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly {
            r := calldataload(signature.offset)
            s := calldataload(add(signature.offset, 32))
            v := byte(0, calldataload(add(signature.offset, 64)))
        }
        if (uint256(s) > HALF_ORDER) revert InvalidSignature();
        if (v < 27) v += 27;
        signer = ecrecover(digest, v, r, s);
        if (signer == address(0)) revert InvalidSignature();
    }

    /// Tokens that return nothing (old USDT style) and tokens that return a bool both work.
    function _pull(address token, address from, uint256 amount) private {
        (bool ok, bytes memory data) = token.call(abi.encodeWithSignature("transferFrom(address,address,uint256)", from, address(this), amount));
        if (!ok || (data.length > 0 && !abi.decode(data, (bool)))) revert TokenTransferFailed();
    }

    function _push(address token, address to, uint256 amount) private {
        (bool ok, bytes memory data) = token.call(abi.encodeWithSignature("transfer(address,uint256)", to, amount));
        if (!ok || (data.length > 0 && !abi.decode(data, (bool)))) revert TokenTransferFailed();
    }
}
