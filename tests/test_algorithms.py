"""The algorithm registry: configs build and train on a real local Ray with tiny budgets."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from mosim_ray.sac.algorithm import FastSACConfig
from mosim_ray.sac.buffer import TransitionReplayBuffer
from mosim_ray.sac.presets import ALGORITHMS, algorithm_config

pytestmark = pytest.mark.ray

VEC_ENV = "test-algorithms-pendulum-vec"


@pytest.fixture
def ray_module(ray_local):
    """The session's local Ray (conftest), under the name these tests use."""
    return ray_local


def _tiny_sac(**kw):
    kw = {
        "learning_starts": 64,
        "min_sample_timesteps_per_iteration": 208,  # > one 200-step episode
        "train_batch_size_per_learner": 64,
        "training_intensity": 64,
    } | kw
    return algorithm_config("sac", "Pendulum-v1", **kw)


def test_registry_names():
    assert set(ALGORITHMS) == {"sac", "ppo"}


def test_unknown_algorithm_raises():
    with pytest.raises(ValueError, match="unknown algorithm"):
        algorithm_config("dqn-ish", "Pendulum-v1")


def test_unknown_override_raises():
    with pytest.raises(ValueError, match="unknown override"):
        algorithm_config("sac", "Pendulum-v1", no_such_setting=3)
    with pytest.raises(ValueError, match="unknown override"):
        algorithm_config("ppo", "Pendulum-v1", **{"nope.key": 1})
    with pytest.raises(ValueError, match="vectorize_mode"):
        algorithm_config("sac", "Pendulum-v1", vectorize_mode="threads")


def test_sac_hyperparameters_and_overrides():
    c = algorithm_config(
        "sac",
        "Pendulum-v1",
        learning_starts=2000,
        train_batch_size_per_learner=128,
        **{"replay_buffer_config.capacity": 5000, "model_config.fcnet_hiddens": [64, 64]},
    )
    assert isinstance(c, FastSACConfig)
    assert (c.actor_lr, c.critic_lr, c.alpha_lr) == (3e-4, 3e-4, 3e-4)
    assert (c.gamma, c.tau, c.initial_alpha, c.target_entropy) == (0.99, 0.005, 0.2, "auto")
    assert c.twin_q and c.model_config["fcnet_activation"] == "relu"
    assert c.model_config["fcnet_hiddens"] == [64, 64]
    assert c.num_steps_sampled_before_learning_starts == 2000
    assert c.train_batch_size_per_learner == 128
    assert c.replay_buffer_config == {"type": "TransitionReplayBuffer", "capacity": 5000}
    # training_intensity keeps RLlib's meaning (replayed / sampled steps): 256 / 256 = 1.
    assert algorithm_config("sac", "Pendulum-v1").updates_per_env_step == 1.0


def test_transition_buffer_pairs_next_obs_and_terminal():
    from ray.rllib.env.single_agent_episode import SingleAgentEpisode

    obs = [np.full(3, i, np.float32) for i in range(5)]
    ep = SingleAgentEpisode(
        observations=obs,
        actions=[np.full(1, 10 + i, np.float32) for i in range(4)],
        rewards=[float(i) for i in range(4)],
        terminated=True,
        len_lookback_buffer=0,
    )
    buf = TransitionReplayBuffer(capacity=3, seed=0)
    assert buf.add([ep]) == 4 and len(buf) == 3  # ring buffer keeps the newest 3
    b = buf.sample(200)
    np.testing.assert_array_equal(b["new_obs"][:, 0], b["obs"][:, 0] + 1)
    np.testing.assert_array_equal(b["actions"][:, 0], b["obs"][:, 0] + 10)
    np.testing.assert_array_equal(b["rewards"], b["obs"][:, 0])
    np.testing.assert_array_equal(b["terminateds"], (b["obs"][:, 0] == 3).astype(np.float32))
    assert set(b["obs"][:, 0]) == {1.0, 2.0, 3.0}


def test_single_backward_gradients_equal_rllib_four_backward(ray_module):
    from ray.rllib.algorithms.sac.torch.sac_torch_learner import SACTorchLearner
    from ray.rllib.core import DEFAULT_MODULE_ID

    env = gym.make("Pendulum-v1")
    learner = _tiny_sac().build_learner(env=env)
    rng = np.random.default_rng(0)
    n = 64
    batch = {
        DEFAULT_MODULE_ID: {
            "obs": torch.tensor(rng.normal(size=(n, 3)), dtype=torch.float32),
            "new_obs": torch.tensor(rng.normal(size=(n, 3)), dtype=torch.float32),
            "actions": torch.tensor(rng.uniform(-2, 2, size=(n, 1)), dtype=torch.float32),
            "rewards": torch.tensor(rng.normal(size=n), dtype=torch.float32),
            "terminateds": torch.zeros(n),
            "weights": torch.ones(n),
            "n_step": torch.ones(n),
        }
    }

    def grads(compute):
        torch.manual_seed(0)
        fwd = learner.module.forward_train(batch)
        losses = learner.compute_losses(fwd_out=fwd, batch=batch)
        return {k: v.clone() for k, v in compute(learner, losses).items()}

    ours = grads(type(learner).compute_gradients)
    theirs = grads(SACTorchLearner.compute_gradients)
    assert ours.keys() == theirs.keys() and len(ours) > 10
    for k in ours:
        torch.testing.assert_close(ours[k], theirs[k], rtol=1e-5, atol=1e-6)


def test_sac_trains_one_iteration(ray_module, tmp_path):
    from ray.rllib.core import DEFAULT_MODULE_ID
    from ray.rllib.core.rl_module.rl_module import RLModule

    from mosim_ray.sac.policy import MODULE_PATH

    algo = _tiny_sac().build_algo()
    try:
        r = algo.train()
        assert r["env_runners"]["num_env_steps_sampled_lifetime"] >= 208
        # one update per env step once learning starts (64 steps)
        assert r["num_gradient_updates_lifetime"] == pytest.approx(
            r["env_runners"]["num_env_steps_sampled_lifetime"] - 64, abs=16
        )
        learner = r["learners"]["default_policy"]
        assert np.isfinite(learner["qf_loss"]) and np.isfinite(learner["policy_loss"])
        assert "episode_return_mean" in r["env_runners"]
        # the env runner acts with the learner's newest policy (in-place weight sync)
        module = algo.learner_group._learner.module[DEFAULT_MODULE_ID]
        policy = module.get_state(inference_only=True)
        runner = algo.env_runner.module.get_state()
        for k in policy:
            np.testing.assert_array_equal(runner[k], policy[k])
        # the checkpoint's module acts as the learner's
        algo.save_to_path(str(tmp_path))
        # and a run restored from it goes on at the learned temperature, not the initial one
        log_alpha = algo.learner_group._learner.curr_log_alpha[DEFAULT_MODULE_ID]
        fresh = _tiny_sac().build_algo()
        try:
            started = fresh.learner_group._learner.curr_log_alpha[DEFAULT_MODULE_ID].clone()
            assert not torch.equal(started, log_alpha)  # the temperature has moved
            fresh.restore_from_path(str(tmp_path))
            restored_alpha = fresh.learner_group._learner.curr_log_alpha[DEFAULT_MODULE_ID]
            torch.testing.assert_close(restored_alpha, log_alpha, rtol=0, atol=0)
            fresh.train()  # the temperature's optimizer still updates the restored tensor
            assert not torch.equal(restored_alpha, log_alpha)
        finally:
            fresh.stop()
        restored = RLModule.from_checkpoint(str(tmp_path.joinpath(*MODULE_PATH)))
        obs = {"obs": torch.randn(5, 3)}
        with torch.no_grad():
            torch.testing.assert_close(
                restored.forward_inference(obs)["action_dist_inputs"],
                module.forward_inference(obs)["action_dist_inputs"],
            )
    finally:
        algo.stop()


def test_sac_vector_entry_point_remote_runner_single_thread(ray_module):
    from ray.tune.registry import register_env

    def pendulum_vec(config: dict) -> gym.vector.VectorEnv:
        # Defined here so that cloudpickle ships it by value: remote env runners cannot
        # import this test module.
        n = int(config["num_envs"])
        return gym.vector.SyncVectorEnv([lambda: gym.make("Pendulum-v1") for _ in range(n)])

    register_env(VEC_ENV, pendulum_vec)
    config = _tiny_sac(
        num_env_runners=1, num_envs_per_env_runner=2, vectorize_mode="vector_entry_point"
    )
    config.environment(VEC_ENV)
    algo = config.build_algo()
    try:
        threads = algo.env_runner_group.foreach_env_runner(
            lambda runner: (runner.num_envs, torch.get_num_threads()), local_env_runner=False
        )
        assert threads == [(2, 1)]
        r = algo.train()
        assert r["env_runners"]["num_env_steps_sampled_lifetime"] >= 208
        assert r["num_gradient_updates_lifetime"] > 0
    finally:
        algo.stop()


def test_ppo_trains_one_iteration(ray_module):
    config = algorithm_config(
        "ppo",
        "Pendulum-v1",
        train_batch_size_per_learner=256,
        minibatch_size=64,
        num_epochs=2,
    )
    algo = config.build_algo()
    try:
        r = algo.train()
        assert r["env_runners"]["num_env_steps_sampled_lifetime"] >= 256
        assert np.isfinite(r["learners"]["default_policy"]["policy_loss"])
    finally:
        algo.stop()


def test_target_critics_move_once_per_gradient_step(ray_module):
    from ray.rllib.core import DEFAULT_MODULE_ID
    from ray.rllib.policy.sample_batch import MultiAgentBatch, SampleBatch

    # lr 0 freezes the critics, so after K steps: target - main = (1 - tau)^K (target0 - main).
    config = _tiny_sac(tau=0.5, actor_lr=0.0, critic_lr=0.0, alpha_lr=0.0)
    learner = config.build_learner(env=gym.make("Pendulum-v1"))
    module = learner.module[DEFAULT_MODULE_ID]
    main, target = module.qf_encoder, module.target_qf_encoder
    with torch.no_grad():
        for p in target.parameters():
            p.add_(1.0)
    rng = np.random.default_rng(0)
    k, n = 3, 64
    cols = {
        "obs": rng.normal(size=(k * n, 3)).astype(np.float32),
        "new_obs": rng.normal(size=(k * n, 3)).astype(np.float32),
        "actions": rng.uniform(-2, 2, size=(k * n, 1)).astype(np.float32),
        "rewards": rng.normal(size=k * n).astype(np.float32),
        "terminateds": np.zeros(k * n, np.float32),
        "weights": np.ones(k * n, np.float32),
        "n_step": np.ones(k * n, np.float32),
    }
    batch = MultiAgentBatch({DEFAULT_MODULE_ID: SampleBatch(cols)}, env_steps=k * n)
    learner.update(batch=batch, minibatch_size=n, num_epochs=1, shuffle_batch_per_epoch=False)
    for pm, pt in zip(main.parameters(), target.parameters()):
        torch.testing.assert_close(pt - pm, torch.full_like(pm, 0.5**k))


def _random_batch(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "obs": rng.normal(size=(n, 3)).astype(np.float32),
        "new_obs": rng.normal(size=(n, 3)).astype(np.float32),
        "actions": rng.uniform(-2, 2, size=(n, 1)).astype(np.float32),
        "rewards": rng.normal(size=n).astype(np.float32),
        "terminateds": (rng.uniform(size=n) < 0.1).astype(np.float32),
    }


def _losses(learner, batch, compute):
    """(losses by optimizer name, fwd_out) of ``compute`` on one seeded forward pass."""
    from ray.rllib.core import DEFAULT_MODULE_ID

    torch.manual_seed(0)
    tensors = {k: torch.from_numpy(v) for k, v in batch.items()}
    fwd = learner.module.forward_train({DEFAULT_MODULE_ID: tensors})[DEFAULT_MODULE_ID]
    config = learner.config.get_config_for_module(DEFAULT_MODULE_ID)
    learner._temp_losses.clear()
    compute(learner, module_id=DEFAULT_MODULE_ID, config=config, batch=tensors, fwd_out=fwd)
    losses = {k[1]: v for k, v in learner._temp_losses.items()}
    learner._temp_losses.clear()
    return losses, fwd, tensors


def test_huber_losses_equal_rllib_sac_losses(ray_module):
    from ray.rllib.algorithms.sac.torch.sac_torch_learner import SACTorchLearner

    learner = _tiny_sac().build_learner(env=gym.make("Pendulum-v1"))
    batch = _random_batch(64)
    batch["weights"], batch["n_step"] = np.ones(64, np.float32), np.ones(64, np.float32)
    ours, _, _ = _losses(learner, batch, type(learner).compute_loss_for_module)
    theirs, _, _ = _losses(learner, batch, SACTorchLearner._compute_loss_for_module_continuous)
    assert ours.keys() == theirs.keys() == {"policy_loss", "qf_loss", "qf_twin_loss", "alpha_loss"}
    for k in ours:
        torch.testing.assert_close(ours[k], theirs[k], rtol=0, atol=0)


def test_mse_critic_gradient_is_the_squared_error_gradient(ray_module):
    import torch.nn.functional as F
    from ray.rllib.core import DEFAULT_MODULE_ID

    learner = _tiny_sac(critic_loss="mse").build_learner(env=gym.make("Pendulum-v1"))
    module = learner.module[DEFAULT_MODULE_ID]
    losses, fwd, tensors = _losses(
        learner, _random_batch(64), type(learner).compute_loss_for_module
    )
    learner._temp_losses.update({(DEFAULT_MODULE_ID, k): v for k, v in losses.items()})
    grads = learner.compute_gradients({DEFAULT_MODULE_ID: sum(losses.values())})
    # The SAC paper's critic loss, written out: mean (Q(s, a) - y)^2 per critic, with
    # y = r + gamma (1 - done) (min target Q(s', a') - alpha log pi(a'|s')).
    alpha = float(torch.exp(learner.curr_log_alpha[DEFAULT_MODULE_ID].detach()))
    next_v = fwd["q_target_next"] - alpha * fwd["logp_next_resampled"]
    y = tensors["rewards"] + 0.99 * (1 - tensors["terminateds"]) * next_v
    qf_in = {"obs": tensors["obs"], "actions": tensors["actions"]}
    for encoder, head in ((module.qf_encoder, module.qf), (module.qf_twin_encoder, module.qf_twin)):
        q = module._qf_forward_train_helper(qf_in, encoder, head)
        params = [*encoder.parameters(), *head.parameters()]
        expected = torch.autograd.grad(F.mse_loss(q, y.detach()), params)
        for p, g in zip(params, expected):
            torch.testing.assert_close(grads[learner.get_param_ref(p)], g, rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match="critic_loss"):
        _tiny_sac(critic_loss="l1").validate()


def test_update_from_arrays_equals_rllib_update(ray_module):
    """K lean steps (lean forward, our loss, no minibatch iterator) = RLlib's forward_train,
    SAC loss and ``Learner.update`` over K minibatches, bit for bit."""
    from ray.rllib.algorithms.sac.torch.sac_torch_learner import SACTorchLearner
    from ray.rllib.core import DEFAULT_MODULE_ID
    from ray.rllib.policy.sample_batch import MultiAgentBatch, SampleBatch

    from mosim_ray.sac.learner import FastSACTorchLearner

    class RLlibForwardAndLoss(FastSACTorchLearner):
        compute_loss_for_module = SACTorchLearner.compute_loss_for_module

        def _lean_forward(self, module_id):
            return None

    k, n = 3, 64
    data = _random_batch(k * n, seed=1)
    rllib = _tiny_sac().training(learner_class=RLlibForwardAndLoss)
    learners = [c.build_learner(env=gym.make("Pendulum-v1")) for c in (rllib, _tiny_sac())]
    torch.manual_seed(0)
    cols = {key: torch.from_numpy(v) for key, v in data.items()}
    cols |= {"weights": torch.ones(k * n), "n_step": torch.ones(k * n)}  # RLlib's loss reads them
    batch = MultiAgentBatch({DEFAULT_MODULE_ID: SampleBatch(cols)}, env_steps=k * n)
    theirs = learners[0].update(batch=batch, minibatch_size=n, num_epochs=1)
    torch.manual_seed(0)
    ours = learners[1].update_from_arrays(data, minibatch_size=n)
    mid = DEFAULT_MODULE_ID
    after = [learner.module[mid].state_dict() for learner in learners]
    assert after[0].keys() == after[1].keys()
    for name in after[0]:  # networks and target networks, bit for bit
        torch.testing.assert_close(after[0][name], after[1][name], rtol=0, atol=0)
    for key in ("qf_loss", "policy_loss", "alpha_value", "num_module_steps_trained_lifetime"):
        assert float(ours[mid][key].peek()) == float(theirs[mid][key].peek()), key
    assert float(ours[mid]["module_train_batch_size_mean"].peek()) == n


def test_lean_forward_equals_rllib_forward_train(ray_module):
    from ray.rllib.core import DEFAULT_MODULE_ID

    from mosim_ray.sac.forward import LeanSACForward, lean_forward_supported

    learner = _tiny_sac().build_learner(env=gym.make("Pendulum-v1"))
    module = learner.module[DEFAULT_MODULE_ID]
    assert lean_forward_supported(module)
    batch = {k: torch.from_numpy(v) for k, v in _random_batch(64).items()}
    torch.manual_seed(0)
    theirs = module.forward_train(batch)
    torch.manual_seed(0)
    ours = LeanSACForward(module)(batch)
    assert ours.keys() == theirs.keys()
    for k in ours:  # same networks, same draws: bit for bit
        torch.testing.assert_close(ours[k], theirs[k], rtol=0, atol=0)
    rllib_critic = _tiny_sac(concat_q_critic=False).build_learner(env=gym.make("Pendulum-v1"))
    assert not lean_forward_supported(rllib_critic.module[DEFAULT_MODULE_ID])


def test_bfloat16_networks_stay_near_float32_and_train_float32_weights(ray_module):
    """``network_dtype="bfloat16"``: the update's outputs within bfloat16's rounding of the
    float32 ones (not equal: the products really run in bfloat16), float32 weights that move,
    and a clear error where it cannot apply."""
    from ray.rllib.core import DEFAULT_MODULE_ID

    from mosim_ray.sac.forward import LeanSACForward

    learner = _tiny_sac(network_dtype="bfloat16").build_learner(env=gym.make("Pendulum-v1"))
    module = learner.module[DEFAULT_MODULE_ID]
    batch = {k: torch.from_numpy(v) for k, v in _random_batch(64).items()}
    torch.manual_seed(0)
    full = LeanSACForward(module)(batch)
    torch.manual_seed(0)
    half = LeanSACForward(module, "bfloat16")(batch)
    for key in ("qf_preds", "q_target_next", "action_dist_inputs"):
        assert half[key].dtype == torch.float32
        assert not torch.equal(half[key], full[key]), key
        torch.testing.assert_close(half[key], full[key], rtol=0.05, atol=0.05)
    before = {k: v.clone() for k, v in module.state_dict().items()}
    learner.update_from_arrays(_random_batch(128, seed=1), minibatch_size=64)
    after = module.state_dict()
    assert all(v.dtype == torch.float32 for v in after.values())
    assert any(not torch.equal(before[k], after[k]) for k in after)
    with pytest.raises(ValueError, match="network_dtype"):
        _tiny_sac(network_dtype="float16").validate()


def test_critic_target_bounds_clip_the_bellman_target(ray_module):
    from ray.rllib.algorithms.sac.sac_learner import QF_PREDS, QF_TWIN_PREDS

    from mosim_ray.sac.losses import sac_losses

    b = 4
    fwd = {
        QF_PREDS: torch.zeros(b),
        QF_TWIN_PREDS: torch.zeros(b),
        "q_curr": torch.zeros(b),
        "logp_resampled": torch.zeros(b),
        # a runaway target critic: 1e6 where the rewards allow at most 100
        "q_target_next": torch.tensor([1e6, -1e6, 50.0, 0.0]),
        "logp_next_resampled": torch.zeros(b),
    }
    batch = {"rewards": torch.ones(b), "terminateds": torch.zeros(b)}
    common = {"log_alpha": torch.zeros(1), "target_entropy": -1.0, "gamma": 0.99, "twin_q": True}
    free = sac_losses(fwd, batch, **common, kind="mse")
    clipped = sac_losses(fwd, batch, **common, kind="mse", target_bounds=(0.0, 100.0))
    torch.testing.assert_close(free.target, torch.tensor([1 + 0.99e6, 1 - 0.99e6, 50.5, 1.0]))
    torch.testing.assert_close(clipped.target, torch.tensor([100.0, 0.0, 50.5, 1.0]))
    torch.testing.assert_close(clipped.critic, torch.mean(clipped.target**2))
    with pytest.raises(ValueError, match="critic_target_bounds"):
        _tiny_sac(critic_target_bounds=[5.0, 1.0]).validate()
    _tiny_sac(critic_target_bounds=[0.0, 100.0]).validate()
    # the setting reaches the learner's loss
    learner = _tiny_sac(critic_target_bounds=[0.0, 100.0]).build_learner(
        env=gym.make("Pendulum-v1")
    )
    assert learner._target_bounds == (0.0, 100.0)
