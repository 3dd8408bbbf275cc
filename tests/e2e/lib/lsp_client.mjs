// A minimal Language Server Protocol client over stdio (JSON-RPC 2.0 with Content-Length
// framing), enough to drive yaml-language-server as an editor does: initialize, open documents,
// ask for hover and completion, collect the diagnostics it publishes.
import { spawn } from 'node:child_process';

export class LspClient {
  // `command`: argv of the server; `settings`: what the server gets for workspace/configuration.
  constructor(command, settings) {
    this.settings = settings;
    this.nextId = 1;
    this.pending = new Map();
    this.diagnostics = new Map();  // uri -> {version, items}
    this.waiters = [];
    this.stderr = '';
    this.proc = spawn(command[0], command.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr.on('data', (d) => { this.stderr += d; });
    let buf = Buffer.alloc(0);
    this.proc.stdout.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const sep = buf.indexOf('\r\n\r\n');
        if (sep < 0) return;
        const length = Number(/Content-Length: *(\d+)/i.exec(buf.subarray(0, sep).toString())[1]);
        if (buf.length < sep + 4 + length) return;
        const body = JSON.parse(buf.subarray(sep + 4, sep + 4 + length).toString('utf8'));
        buf = buf.subarray(sep + 4 + length);
        this.onMessage(body);
      }
    });
  }

  send(msg) {
    const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...msg }), 'utf8');
    this.proc.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
    this.proc.stdin.write(body);
  }

  request(method, params, timeoutMs = 60000) {
    const id = this.nextId++;
    this.send({ id, method, params });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${method}: no answer in ${timeoutMs} ms`)), timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
    });
  }

  notify(method, params) {
    this.send({ method, params });
  }

  onMessage(msg) {
    if (msg.id !== undefined && msg.method === undefined) {  // an answer to our request
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.error) p.reject(new Error(msg.error.message));
      else p.resolve(msg.result);
    } else if (msg.id !== undefined) {  // the server asks us
      let result = null;
      if (msg.method === 'workspace/configuration') {
        result = msg.params.items.map((item) => this.settings[item.section] ?? null);
      }
      this.send({ id: msg.id, result });
    } else if (msg.method === 'textDocument/publishDiagnostics') {
      this.diagnostics.set(msg.params.uri, msg.params);
      this.waiters = this.waiters.filter((w) => !w(msg.params));
    }
  }

  async initialize(rootUri) {
    const result = await this.request('initialize', {
      processId: process.pid,
      rootUri,
      capabilities: {
        workspace: { configuration: true, didChangeConfiguration: { dynamicRegistration: true } },
        textDocument: {
          hover: { contentFormat: ['markdown', 'plaintext'] },
          completion: { completionItem: { snippetSupport: true, documentationFormat: ['markdown'] } },
          publishDiagnostics: { versionSupport: true },
        },
      },
      workspaceFolders: [{ uri: rootUri, name: 'root' }],
    });
    this.notify('initialized', {});
    this.notify('workspace/didChangeConfiguration', { settings: this.settings });
    return result;
  }

  // Opens a document and resolves with the diagnostics published for this version of it.
  open(uri, text, version = 1) {
    const got = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no diagnostics for ${uri}`)), 60000);
      this.waiters.push((p) => {
        if (p.uri !== uri || (p.version !== undefined && p.version !== version)) return false;
        clearTimeout(timer);
        resolve(p.diagnostics);
        return true;
      });
    });
    this.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'yaml', version, text } });
    return got;
  }

  close(uri) {
    this.notify('textDocument/didClose', { textDocument: { uri } });
  }

  hover(uri, line, character) {
    return this.request('textDocument/hover', { textDocument: { uri }, position: { line, character } });
  }

  completion(uri, line, character) {
    return this.request('textDocument/completion', { textDocument: { uri }, position: { line, character } });
  }

  async shutdown() {
    await this.request('shutdown', null).catch(() => {});
    this.notify('exit', null);
    this.proc.stdin.end();
    setTimeout(() => this.proc.kill(), 1000).unref();
  }
}
