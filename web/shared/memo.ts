// A component that renders again only when one of its props changed (shallow), like React.memo, without
// preact/compat. The dashboard renders ten times a second for the level meters; the chart, the event
// list and the tables should not follow unless what they show changed.
import { Component, h, type ComponentType } from 'preact';

export function memo<P extends object>(Inner: ComponentType<P>): ComponentType<P> {
  class Memo extends Component<P> {
    override shouldComponentUpdate(next: Readonly<P>): boolean {
      const prev = this.props as Record<string, unknown>;
      const n = next as Record<string, unknown>;
      for (const k in n) if (n[k] !== prev[k]) return true;
      for (const k in prev) if (!(k in n)) return true;
      return false;
    }
    override render() {
      return h(Inner as ComponentType<object>, this.props);
    }
  }
  return Memo as unknown as ComponentType<P>;
}
