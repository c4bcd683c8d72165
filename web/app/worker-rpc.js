// Requests to a worker that answer with a message of the same type and id: the render
// worker's and the encode worker's `snapshot` (test and support hooks). One place for
// the id counter and the waiting promises.

/** @typedef {{width: number, height: number, rgba: ArrayBuffer | null}} Snapshot */

export class WorkerRequests {
  constructor() {
    this.next = 0;
    /** @type {Map<number, (reply: any) => void>} */
    this.waiting = new Map();
  }

  /**
   * Posts `{type, id}` to `worker` and resolves with its reply.
   * @param {Worker} worker @param {string} type
   * @returns {Promise<any>}
   */
  ask(worker, type) {
    const id = ++this.next;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      worker.postMessage({ type, id });
    });
  }

  /**
   * Hands a worker message to the request it answers; false if it answers none.
   * @param {{id?: number}} msg
   */
  settle(msg) {
    if (msg.id === undefined) return false;
    const resolve = this.waiting.get(msg.id);
    if (!resolve) return false;
    this.waiting.delete(msg.id);
    resolve(msg);
    return true;
  }
}
