import { render } from 'preact';
import { App } from './app';
import './styles.css';

const root = document.getElementById('app')!;
// The page's own "Loading…" placeholder goes: render() adds to a container, it does not replace it.
root.replaceChildren();
render(<App />, root);
