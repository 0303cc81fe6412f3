/** The worker module of the hand-off bench: nothing to load, one trivial method. */
export default { interface: { ping: () => 'pong' } };
