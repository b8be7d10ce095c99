// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.19;

/// @title poai rewards: pay for proven inference.
/// @notice A registration names a model as one verifier proves it: the model commitment, the verifier
/// generated for its verifying key, and the layout of the verifier's call data. Its id is the hash of all
/// of these, so anyone may register anything and nobody can take over someone else's registration: a
/// requester's task names the registration it trusts (check the verifier with `poai evm-verifier`, the
/// commitment with `poai audit`). A task binds every public instance of the inference it pays for that
/// says which input was used: every input value or input commitment, or for a dataset-bound key the
/// dataset root (and, for an accuracy key, the row range); an accuracy task also names the least count of
/// correct rows it pays for. Reward escrowed in the native token until a deadline.
/// A compute provider submits the call data of a proof (public instances then proof bytes, as
/// `poai calldata` writes it). The call data must be canonical: exactly the registered length, every
/// instance below the field modulus. Each task is checked against its inference's instances, the proof
/// must be bound to the caller (poai proofs end with the provider's address as their last public
/// instance, so a proof copied from the mempool pays nobody but its maker), and an inference is paid
/// once: the replay guard is keyed on the inference's instances (what was proven), not on proof bytes
/// (which a verifier reads modulo the field and past their end). A registration with a batched verifier
/// (an on-chain key compressing several model proofs) takes one proof for a batch of its tasks
/// (`submitBatch`). After the deadline an unpaid task refunds the requester. No function loops over
/// unbounded data (a batch is at most MAX_BATCH tasks; instances are bounded by the call data paid for).
contract PoaiRewards {
    /// What a registration binds. Indices count 32-byte words from the start of the call data and refer
    /// to the first inference; inference i's are `stride * i` further, `stride = (instanceCount -
    /// modelIndex) / batch`, and its last instance is its provider.
    struct Registration {
        bytes32 model;
        address verifier;
        // Public instances (32-byte words) at the start of the call data.
        uint32 instanceCount;
        // Bytes of proof after the instances (the generated verifier's proofs have one size).
        uint32 proofLength;
        // The model commitment (0 for a direct proof; after the 12 accumulator limbs for a compressed one).
        uint32 modelIndex;
        // The run of instances a task binds: input values or commitments, or the dataset root (and row
        // range); boundCount 0 for keys that expose neither.
        uint32 boundIndex;
        uint32 boundCount;
        // The correct-row count of an accuracy key, or NONE.
        uint32 countIndex;
        // Inferences per proof.
        uint32 batch;
    }

    enum Status {
        None,
        Open,
        Paid,
        Refunded
    }

    struct Task {
        bytes32 registration;
        // keccak256 of the bound instances, as words.
        bytes32 bound;
        // One slot: requester, deadline (a uint40 timestamp lasts beyond the year 30000), status, count.
        address requester;
        uint40 deadline;
        Status status;
        // Least correct-row count paid for (accuracy registrations; else 0).
        uint32 minCount;
        // Packed with the provider in one slot, so paying writes no fresh slot for it (2^96 wei is far
        // above any reward).
        uint96 reward;
        address provider;
        // keccak256 of the accepted inference's public instances (model, input, outputs, provider).
        bytes32 instancesHash;
    }

    uint32 public constant NONE = type(uint32).max;
    /// Most tasks one proof pays for.
    uint32 public constant MAX_BATCH = 16;
    /// BN254's scalar field modulus: every public instance is below it.
    uint256 public constant FIELD_MODULUS =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    mapping(bytes32 => Registration) public registrations;
    mapping(uint256 => Task) public tasks;
    /// keccak256 of each paid inference's instances.
    mapping(bytes32 => bool) public inferencePaid;
    uint256 public taskCount;
    uint256 private locked = 1;

    event ModelRegistered(bytes32 indexed registration, bytes32 indexed model, address verifier, address by);
    event TaskPosted(
        uint256 indexed taskId,
        bytes32 indexed registration,
        bytes32[] bound,
        uint32 minCount,
        uint256 reward,
        uint64 deadline
    );
    event TaskPaid(uint256 indexed taskId, address indexed provider, uint256 reward, bytes instances);
    event TaskRefunded(uint256 indexed taskId, address indexed requester, uint256 reward);

    error UnknownModel();
    error BadTask();
    error NotOpen();
    error DeadlinePassed();
    error DeadlineNotPassed();
    error NonCanonical();
    error InstancesMismatch();
    error CountTooLow();
    error WrongProvider();
    error ProofReplayed();
    error ProofRejected();
    error TransferFailed();
    error Reentrancy();

    modifier nonReentrant() {
        if (locked != 1) revert Reentrancy();
        locked = 2;
        _;
        locked = 1;
    }

    /// @notice The id of a registration: the hash of everything it binds.
    function registrationId(Registration calldata r) public pure returns (bytes32) {
        return keccak256(abi.encode(r));
    }

    /// @notice Registers a model as `r.verifier` proves it and returns the registration's id. Anyone may
    /// register; registering the same again returns the same id and changes nothing.
    function registerModel(Registration calldata r) external returns (bytes32 id) {
        if (r.verifier.code.length == 0 || r.proofLength == 0 || r.modelIndex >= r.instanceCount) revert BadTask();
        if (r.batch == 0 || r.batch > MAX_BATCH || (r.instanceCount - r.modelIndex) % r.batch != 0) revert BadTask();
        uint256 stride = (uint256(r.instanceCount) - r.modelIndex) / r.batch;
        // Bound instances and the count lie strictly between the model commitment and the provider.
        uint256 provider = uint256(r.modelIndex) + stride - 1;
        if (r.boundCount != 0 && (r.boundIndex <= r.modelIndex || uint256(r.boundIndex) + r.boundCount > provider)) {
            revert BadTask();
        }
        if (r.countIndex != NONE && (r.countIndex <= r.modelIndex || r.countIndex >= provider)) revert BadTask();
        id = registrationId(r);
        if (registrations[id].verifier != address(0)) return id;
        registrations[id] = r;
        emit ModelRegistered(id, r.model, r.verifier, msg.sender);
    }

    /// @notice Posts a task on `registration` for the inference whose bound instances are `bound` (the
    /// input values or commitments, or the dataset root and row range; empty for a registration that
    /// binds none), paying only for a correct-row count of at least `minCount` (accuracy registrations;
    /// else 0), escrowing `msg.value` until `deadline`.
    function postTask(bytes32 registration, bytes32[] calldata bound, uint32 minCount, uint64 deadline)
        external
        payable
        returns (uint256 taskId)
    {
        Registration storage r = registrations[registration];
        if (r.verifier == address(0)) revert UnknownModel();
        if (msg.value == 0 || msg.value > type(uint96).max) revert BadTask();
        if (deadline <= block.timestamp || deadline > type(uint40).max) revert BadTask();
        if (bound.length != r.boundCount || (r.countIndex == NONE && minCount != 0)) revert BadTask();
        for (uint256 i = 0; i < bound.length; ++i) {
            if (uint256(bound[i]) >= FIELD_MODULUS) revert BadTask();
        }
        taskId = ++taskCount;
        tasks[taskId] = Task(
            registration,
            keccak256(abi.encodePacked(bound)),
            msg.sender,
            uint40(deadline),
            Status.Open,
            minCount,
            uint96(msg.value),
            address(0),
            bytes32(0)
        );
        emit TaskPosted(taskId, registration, bound, minCount, msg.value, deadline);
    }

    /// @notice Submits a proof for task `taskId` of a registration whose proofs cover one inference:
    /// `proofCalldata` is the verifier's call data (public instances, then the proof). Pays the reward to
    /// the caller if the instances match the task and the verifier accepts the proof.
    function submit(uint256 taskId, bytes calldata proofCalldata) external nonReentrant {
        uint256[] memory taskIds = new uint256[](1);
        taskIds[0] = taskId;
        _settle(taskIds, proofCalldata);
    }

    /// @notice Submits one proof for a batch of tasks of one registration, in the order of the proof's
    /// inferences (as many tasks as the registered batch). Pays the caller every reward if each task
    /// matches its inference's instances and the verifier accepts the proof.
    function submitBatch(uint256[] calldata taskIds, bytes calldata proofCalldata) external nonReentrant {
        _settle(taskIds, proofCalldata);
    }

    /// Checks the call data is canonical and each task against its inference's instances, marks the tasks
    /// paid and the inferences used, has the verifier check the proof (a static call: it cannot change
    /// state), then pays the caller the sum of the rewards; any failure reverts the whole batch.
    function _settle(uint256[] memory taskIds, bytes calldata proofCalldata) private {
        if (taskIds.length == 0) revert BadTask();
        bytes32 regId = tasks[taskIds[0]].registration;
        Registration storage r = registrations[regId];
        if (r.verifier == address(0)) revert NotOpen();
        if (taskIds.length != r.batch) revert BadTask();
        _checkCanonical(r, proofCalldata);
        uint256 stride = (uint256(r.instanceCount) - r.modelIndex) / r.batch * 32;
        uint256 total;
        for (uint256 i = 0; i < taskIds.length; ++i) {
            total += _claim(r, regId, taskIds[i], proofCalldata, uint256(r.modelIndex) * 32 + i * stride, stride);
        }
        (bool valid,) = r.verifier.staticcall(proofCalldata);
        if (!valid) revert ProofRejected();

        (bool sent,) = payable(msg.sender).call{value: total}("");
        if (!sent) revert TransferFailed();
    }

    /// The call data is exactly the registered instances and proof, and every instance is a canonical
    /// field element (below the modulus), so no two call data encode the same instances.
    function _checkCanonical(Registration storage r, bytes calldata data) private view {
        uint256 instancesLen = uint256(r.instanceCount) * 32;
        if (data.length != instancesLen + r.proofLength) revert NonCanonical();
        for (uint256 at = 0; at < instancesLen; at += 32) {
            if (uint256(bytes32(data[at:at + 32])) >= FIELD_MODULUS) revert NonCanonical();
        }
    }

    /// Checks task `taskId` against the inference whose instances start at byte `first` (`stride` bytes),
    /// marks it paid and the inference used; returns its reward.
    function _claim(
        Registration storage r,
        bytes32 regId,
        uint256 taskId,
        bytes calldata data,
        uint256 first,
        uint256 stride
    ) private returns (uint256) {
        Task storage t = tasks[taskId];
        // A task listed twice is already Paid at its second occurrence.
        if (t.status != Status.Open) revert NotOpen();
        if (block.timestamp > t.deadline) revert DeadlinePassed();
        if (t.registration != regId || bytes32(data[first:first + 32]) != r.model) revert InstancesMismatch();
        if (r.boundCount != 0) {
            uint256 at = first + (uint256(r.boundIndex) - r.modelIndex) * 32;
            if (keccak256(data[at:at + uint256(r.boundCount) * 32]) != t.bound) revert InstancesMismatch();
        }
        if (r.countIndex != NONE) {
            uint256 at = first + (uint256(r.countIndex) - r.modelIndex) * 32;
            if (uint256(bytes32(data[at:at + 32])) < t.minCount) revert CountTooLow();
        }
        // The last instance of each inference is the address its proof is bound to: only that provider
        // can be paid with it.
        uint256 last = first + stride - 32;
        if (uint256(bytes32(data[last:last + 32])) != uint256(uint160(msg.sender))) revert WrongProvider();
        bytes32 inference = keccak256(data[first:first + stride]);
        if (inferencePaid[inference]) revert ProofReplayed();
        inferencePaid[inference] = true;
        t.status = Status.Paid;
        t.provider = msg.sender;
        t.instancesHash = inference;
        emit TaskPaid(taskId, msg.sender, t.reward, data[first:first + stride]);
        return t.reward;
    }

    /// @notice Returns the escrow of an unpaid task to its requester once the deadline has passed.
    function refund(uint256 taskId) external nonReentrant {
        Task storage t = tasks[taskId];
        if (t.status != Status.Open) revert NotOpen();
        if (block.timestamp <= t.deadline) revert DeadlineNotPassed();
        t.status = Status.Refunded;
        uint256 reward = t.reward;
        emit TaskRefunded(taskId, t.requester, reward);
        (bool sent,) = payable(t.requester).call{value: reward}("");
        if (!sent) revert TransferFailed();
    }

    /// @notice Status of a task (0 none, 1 open, 2 paid, 3 refunded).
    function taskStatus(uint256 taskId) external view returns (Status) {
        return tasks[taskId].status;
    }
}
