// Worker module for piscina (threads): run(task, { name }). CommonJS because piscina
// require()s the worker first, and require() of an ES module inside a worker thread
// intermittently aborts Node 20 (an assertion in ModuleWrap::CreateRequiredModuleFacade).
const bcrypt = require('bcryptjs');

exports.echo = (value) => value;
exports.hash = ({ password, salt }) => bcrypt.hashSync(password, salt);
