/** The baseline of spawn-to-ready: a bare node child that says it is ready over IPC. */
process.send({ t: 'ready' }, () => process.disconnect());
