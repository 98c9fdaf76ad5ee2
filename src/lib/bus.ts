/**
 * A typed in-process event bus for one area's reaction to another's change (trigger.dev's run engine passes one to
 * its systems the same way). The area that changes something emits; the areas that react subscribe once at start-up
 * (src/services.ts), so the emitter never imports them. Handlers run in the order they were registered and are
 * awaited: an event that carries the emitter's transaction (`tx`) is handled inside it, and a handler's failure
 * rolls the change back, so a reaction is never half-applied.
 */
export class EventBus<Events extends object> {
  private handlers = new Map<keyof Events, ((event: never) => Promise<void>)[]>();

  on<K extends keyof Events>(name: K, handler: (event: Events[K]) => Promise<void>): void {
    this.handlers.set(name, [...(this.handlers.get(name) ?? []), handler]);
  }

  async emit<K extends keyof Events>(name: K, event: Events[K]): Promise<void> {
    const handlers = this.handlers.get(name) as ((event: Events[K]) => Promise<void>)[] | undefined;
    if (!handlers) return;
    for (const handler of handlers) await handler(event);
  }
}
