// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.19;

/// @title poai rewards: pay for proven inference.
/// @notice A model owner registers a model commitment with the verifier generated for its verifying key.
/// A requester posts a task (model, input commitment or dataset root, reward escrowed in the native
/// token, deadline). A
/// compute provider submits the call data of a proof (public instances then proof bytes, as
/// `poai calldata` writes it); the contract checks that the instances name the task's model and input
/// (for a dataset-bound key: the dataset root, so a task can pay for a proven accuracy claim on a
/// committed dataset),
/// checks that the proof is bound to the caller (poai proofs end with the provider's address as their last
/// public instance, so a proof copied from the mempool pays nobody but its maker), has the verifier check
/// the proof, records the output and pays the provider, once. A model registered with a batched verifier
/// (an on-chain key compressing several model proofs) takes one proof for a batch of its tasks
/// (`submitBatch`): one verification shared by the batch, each task checked against its own inference's
/// instances. After the deadline an unpaid task refunds the requester. No function loops over unbounded
/// data (a batch is at most MAX_BATCH tasks).
contract PoaiRewards {
    struct Model {
        address owner;
        address verifier;
        // Number of public instances (32-byte words) at the start of the call data.
        uint32 instanceCount;
        // Index among the instances of the model commitment (0 for a direct proof; after the 12
        // accumulator limbs for an on-chain, compressed one).
        uint32 modelIndex;
        // Index among the instances of what a task binds: the input commitment, or the dataset root for
        // a dataset-bound key; NO_INPUT for keys with neither.
        uint32 inputIndex;
        // Inferences per proof. Inference i's instances follow inference i-1's: its model commitment at
        // modelIndex + i * stride, its input at inputIndex + i * stride and its provider (the last of
        // its instances) at modelIndex + (i + 1) * stride - 1, where stride = (instanceCount -
        // modelIndex) / batch.
        uint32 batch;
    }

    enum Status {
        None,
        Open,
        Paid,
        Refunded
    }

    struct Task {
        bytes32 model;
        bytes32 input;
        address requester;
        uint64 deadline;
        Status status;
        // Packed with the provider in one slot, so paying writes no fresh slot for it (2^96 wei is far
        // above any reward).
        uint96 reward;
        address provider;
        // keccak256 of the accepted proof's public instances of this task's inference (model, input,
        // outputs, provider).
        bytes32 instancesHash;
    }

    uint32 public constant NO_INPUT = type(uint32).max;
    /// Most tasks one proof pays for.
    uint32 public constant MAX_BATCH = 16;

    mapping(bytes32 => Model) public models;
    mapping(uint256 => Task) public tasks;
    mapping(bytes32 => bool) public proofUsed;
    uint256 public taskCount;
    uint256 private locked = 1;

    event ModelRegistered(bytes32 indexed model, address indexed owner, address verifier);
    event TaskPosted(uint256 indexed taskId, bytes32 indexed model, bytes32 input, uint256 reward, uint64 deadline);
    event TaskPaid(uint256 indexed taskId, address indexed provider, uint256 reward, bytes instances);
    event TaskRefunded(uint256 indexed taskId, address indexed requester, uint256 reward);

    error AlreadyRegistered();
    error UnknownModel();
    error BadTask();
    error NotOpen();
    error DeadlinePassed();
    error DeadlineNotPassed();
    error InstancesMismatch();
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

    /// @notice Registers `model` (a poai model commitment) with its generated verifier and the layout
    /// of its public instances (`batch` inferences per proof). A commitment is registered once, by whoever
    /// registers it first.
    function registerModel(
        bytes32 model,
        address verifier,
        uint32 instanceCount,
        uint32 modelIndex,
        uint32 inputIndex,
        uint32 batch
    ) external {
        if (models[model].verifier != address(0)) revert AlreadyRegistered();
        if (verifier.code.length == 0 || modelIndex >= instanceCount) revert BadTask();
        if (batch == 0 || batch > MAX_BATCH || (instanceCount - modelIndex) % batch != 0) revert BadTask();
        uint32 stride = (instanceCount - modelIndex) / batch;
        if (inputIndex != NO_INPUT && (inputIndex >= modelIndex + stride || inputIndex <= modelIndex)) {
            revert BadTask();
        }
        models[model] = Model(msg.sender, verifier, instanceCount, modelIndex, inputIndex, batch);
        emit ModelRegistered(model, msg.sender, verifier);
    }

    /// @notice Posts a task for `model` on the input whose commitment is `input` (for a dataset-bound
    /// model: on the dataset whose root is `input`; zero for a model whose proofs expose neither),
    /// escrowing `msg.value` until `deadline`.
    function postTask(bytes32 model, bytes32 input, uint64 deadline) external payable returns (uint256 taskId) {
        Model storage m = models[model];
        if (m.verifier == address(0)) revert UnknownModel();
        if (msg.value == 0 || msg.value > type(uint96).max || deadline <= block.timestamp) revert BadTask();
        if ((m.inputIndex == NO_INPUT) != (input == bytes32(0))) revert BadTask();
        taskId = ++taskCount;
        tasks[taskId] =
            Task(model, input, msg.sender, deadline, Status.Open, uint96(msg.value), address(0), bytes32(0));
        emit TaskPosted(taskId, model, input, msg.value, deadline);
    }

    /// @notice Submits a proof for task `taskId` of a model whose proofs cover one inference:
    /// `proofCalldata` is the verifier's call data (public instances, then the proof). Pays the reward to
    /// the caller if the instances match the task and the verifier accepts the proof.
    function submit(uint256 taskId, bytes calldata proofCalldata) external nonReentrant {
        uint256[] memory taskIds = new uint256[](1);
        taskIds[0] = taskId;
        _settle(taskIds, proofCalldata);
    }

    /// @notice Submits one proof for a batch of tasks of one model, in the order of the proof's
    /// inferences (as many tasks as the model's registered batch). Pays the caller every reward if each
    /// task matches its inference's instances and the verifier accepts the proof.
    function submitBatch(uint256[] calldata taskIds, bytes calldata proofCalldata) external nonReentrant {
        _settle(taskIds, proofCalldata);
    }

    /// Checks each task against its inference's instances and marks it paid, has the verifier check the
    /// proof (a static call: it cannot change state), then pays the caller the sum of the rewards; any
    /// failure reverts the whole batch.
    function _settle(uint256[] memory taskIds, bytes calldata proofCalldata) private {
        if (taskIds.length == 0) revert BadTask();
        bytes32 modelId = tasks[taskIds[0]].model;
        Model storage m = models[modelId];
        if (m.verifier == address(0)) revert NotOpen();
        if (taskIds.length != m.batch) revert BadTask();
        uint256 instancesLen = uint256(m.instanceCount) * 32;
        if (proofCalldata.length <= instancesLen) revert InstancesMismatch();
        uint256 stride = (uint256(m.instanceCount) - m.modelIndex) / m.batch * 32;

        uint256 total;
        for (uint256 i = 0; i < taskIds.length; ++i) {
            Task storage t = tasks[taskIds[i]];
            // A task listed twice is already Paid at its second occurrence.
            if (t.status != Status.Open) revert NotOpen();
            if (block.timestamp > t.deadline) revert DeadlinePassed();
            if (t.model != modelId) revert InstancesMismatch();
            uint256 first = uint256(m.modelIndex) * 32 + i * stride;
            if (bytes32(proofCalldata[first:first + 32]) != modelId) revert InstancesMismatch();
            if (m.inputIndex != NO_INPUT) {
                uint256 at = uint256(m.inputIndex) * 32 + i * stride;
                if (bytes32(proofCalldata[at:at + 32]) != t.input) revert InstancesMismatch();
            }
            // The last instance of each inference is the address its proof is bound to: only that
            // provider can be paid with it.
            uint256 last = first + stride - 32;
            if (uint256(bytes32(proofCalldata[last:last + 32])) != uint256(uint160(msg.sender))) {
                revert WrongProvider();
            }
            t.status = Status.Paid;
            t.provider = msg.sender;
            t.instancesHash = keccak256(proofCalldata[first:first + stride]);
            total += t.reward;
            emit TaskPaid(taskIds[i], msg.sender, t.reward, proofCalldata[first:first + stride]);
        }
        bytes32 proofHash = keccak256(proofCalldata[instancesLen:]);
        if (proofUsed[proofHash]) revert ProofReplayed();
        proofUsed[proofHash] = true;
        (bool valid,) = m.verifier.staticcall(proofCalldata);
        if (!valid) revert ProofRejected();

        (bool sent,) = payable(msg.sender).call{value: total}("");
        if (!sent) revert TransferFailed();
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
