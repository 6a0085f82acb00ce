/** The shell: sign-in gate, the viewer (who this key is), navigation, and the page for the path. */
import type { ComponentChildren } from 'preact';
import { createContext } from 'preact';
import { useContext, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Api, errorCode, errorText, VIEWER_QUERY, type Role, type Viewer } from './api';
import { ActivityPage } from './pages/activity';
import { AuditorKeyOffer, FreshKeyNotice, type FreshKey } from './pages/auditorKey';
import { DirectoryPage } from './pages/directory';
import { EventDetailPage } from './pages/eventDetail';
import { EventsPage } from './pages/events';
import { LogPage } from './pages/log';
import { SignInPage } from './pages/signIn';
import { followLink, navigate, useLocation } from './router';
import { session } from './session';

export interface Signed {
  readonly api: Api;
  readonly viewer: Viewer;
  /** Group id → name, for every group this key may know the name of. */
  readonly groupNames: ReadonlyMap<string, string>;
  readonly has: (role: Role) => boolean;
}

const SignedContext = createContext<Signed | undefined>(undefined);

export function useSigned(): Signed {
  const signed = useContext(SignedContext);
  if (!signed) throw new Error('used outside a signed-in page');
  return signed;
}

export function groupLabel(names: ReadonlyMap<string, string>, id: string): string {
  return names.get(id) ?? id;
}

export function Link(props: { href: string; children: ComponentChildren; class?: string; 'aria-current'?: 'page' | undefined }) {
  return (
    <a href={props.href} class={props.class} aria-current={props['aria-current']} onClick={followLink}>
      {props.children}
    </a>
  );
}

type Loaded = { state: 'out' } | { state: 'loading' } | { state: 'in'; signed: Signed } | { state: 'error'; message: string };

async function load(token: string): Promise<Signed> {
  const api = new Api(token);
  const { viewer } = await api.query<{ viewer: Viewer }>(VIEWER_QUERY);
  const has = (role: Role) => viewer.roles.includes(role);
  const names = new Map(viewer.groups.map((g) => [g.id, g.name]));
  if (has('ADMIN') || has('AUDITOR')) {
    const { groups } = await api.query<{ groups: { id: string; name: string }[] }>('{ groups { id name } }');
    for (const g of groups) names.set(g.id, g.name);
  }
  return { api, viewer, groupNames: names, has };
}

export function App() {
  const location = useLocation();
  const [loaded, setLoaded] = useState<Loaded>(() => (session.token() ? { state: 'loading' } : { state: 'out' }));
  const [generation, setGeneration] = useState(0);
  // A key just created for this tab to switch to: its token is shown once, then only in memory.
  const [fresh, setFresh] = useState<FreshKey | undefined>();

  useEffect(() => {
    const token = session.token();
    if (!token) {
      setLoaded({ state: 'out' });
      return;
    }
    let live = true;
    setLoaded({ state: 'loading' });
    load(token).then(
      (signed) => live && setLoaded({ state: 'in', signed }),
      (err: unknown) => {
        if (!live) return;
        if (errorCode(err) === 'UNAUTHENTICATED') {
          session.signOut();
          setLoaded({ state: 'out' });
        } else setLoaded({ state: 'error', message: errorText(err) });
      },
    );
    return () => {
      live = false;
    };
  }, [generation]);

  const switchKey = (key: FreshKey) => {
    session.signIn(key.token);
    setFresh(key);
    setGeneration((g) => g + 1);
  };

  const signOut = () => {
    session.signOut();
    setFresh(undefined);
    setLoaded({ state: 'out' });
    navigate('/');
  };

  if (loaded.state === 'out') {
    return (
      <SignInPage
        onSignedIn={(token) => {
          session.signIn(token);
          setGeneration((g) => g + 1);
        }}
      />
    );
  }
  if (loaded.state === 'loading') return <Frame><p class="muted">Signing in…</p></Frame>;
  if (loaded.state === 'error') {
    return (
      <Frame>
        <p role="alert" class="alert bad">The server could not be reached: {loaded.message}</p>
        <button type="button" onClick={() => setGeneration((g) => g + 1)}>Try again</button> <button type="button" onClick={signOut}>Sign out</button>
      </Frame>
    );
  }
  return (
    <SignedContext.Provider value={loaded.signed}>
      <Shell path={location.path} queryKey={location.query.toString()} signed={loaded.signed} onSignOut={signOut}>
        {fresh && <FreshKeyNotice fresh={fresh} onDismiss={() => setFresh(undefined)} />}
        <Page path={location.path} query={location.query} signed={loaded.signed} onSwitchKey={switchKey} />
      </Shell>
    </SignedContext.Provider>
  );
}

function Frame(props: { children: ComponentChildren }) {
  return (
    <div class="frame">
      <header class="top">
        <span class="brand">audit-ledger</span>
      </header>
      <main id="main">{props.children}</main>
    </div>
  );
}

/**
 * Keyboard and screen-reader users land on the new content after an in-app navigation: a new
 * page moves focus to <main>; a new query (a filter applied re-creates the page, and the
 * focused control with it) does so only when focus was lost. The first view leaves focus
 * alone, so the first Tab still reaches "Skip to content".
 */
function useFocusOnNavigation(path: string, queryKey: string) {
  const main = useRef<HTMLElement>(null);
  const shown = useRef({ path, queryKey });
  // A layout effect, run in the same commit that removes the old page: with a passive effect the
  // browser can paint the new page with focus fallen to <body> (the followed link is gone) and a
  // Tab pressed in that moment starts again from the top.
  useLayoutEffect(() => {
    const before = shown.current;
    shown.current = { path, queryKey };
    if (before.path === path && before.queryKey === queryKey) return;
    const active = document.activeElement;
    const lost = active === null || active === document.body || !active.isConnected;
    if (before.path !== path || lost) main.current?.focus({ preventScroll: true });
  }, [path, queryKey]);
  return main;
}

function Shell(props: { path: string; queryKey: string; signed: Signed; onSignOut: () => void; children: ComponentChildren }) {
  const { viewer, has } = props.signed;
  const main = useFocusOnNavigation(props.path, props.queryKey);
  const section = '/' + (props.path.split('/')[1] ?? '');
  const items: [string, string][] = [
    ['/events', 'Events'],
    ['/log', 'Log'],
    ['/activity', 'Activity'],
    ...(has('ADMIN') || has('AUDITOR') ? ([['/directory', 'Directory']] as [string, string][]) : []),
  ];
  const current = section === '/' ? (has('AUDITOR') || has('READER') || !has('ADMIN') ? '/events' : '/directory') : section;
  return (
    <div class="frame">
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <span class="brand">audit-ledger</span>
        <nav aria-label="Main">
          {items.map(([href, label]) => (
            <Link key={href} href={href} class="nav" aria-current={current === href ? 'page' : undefined}>
              {label}
            </Link>
          ))}
        </nav>
        <span class="who" data-testid="viewer">
          {viewer.name} · {viewer.roles.join(', ')}
        </span>
        <button type="button" class="quiet" onClick={props.onSignOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1} ref={main}>
        {props.children}
      </main>
    </div>
  );
}

/** ADMIN manages keys but does not read events (separation of duties): say so instead of a bare FORBIDDEN. */
function NoEventAccess(props: { title: string; onSwitchKey: (key: FreshKey) => void }) {
  const { has } = useSigned();
  return (
    <section>
      <h1>{props.title}</h1>
      <div class="card" role="status">
        <p>
          This key may not read events: reading them takes the AUDITOR or READER role{has('ADMIN') ? ', and an ADMIN key manages the directory and keys only' : ''}.
        </p>
        {has('ADMIN') ? (
          <p>
            Below, create an AUDITOR key for yourself in one step; or, in the <Link href="/directory">Directory</Link>, create an AUDITOR key (every group) or a READER
            key (chosen groups) for someone else. The <Link href="/log">Log</Link> page works with this key.
          </p>
        ) : (
          <p>The <Link href="/log">Log</Link> page works with this key.</p>
        )}
      </div>
      {has('ADMIN') && <AuditorKeyOffer onCreated={props.onSwitchKey} />}
    </section>
  );
}

function Page(props: { path: string; query: URLSearchParams; signed: Signed; onSwitchKey: (key: FreshKey) => void }) {
  const detail = /^\/events\/(\d+)$/.exec(props.path);
  const key = useMemo(() => props.query.toString(), [props.query]);
  const { has } = props.signed;
  const readsEvents = has('AUDITOR') || has('READER');
  if (!readsEvents && (detail || props.path === '/events' || props.path === '/activity' || (props.path === '/' && !has('ADMIN')))) {
    return <NoEventAccess title={props.path === '/activity' ? 'Activity' : 'Events'} onSwitchKey={props.onSwitchKey} />;
  }
  if (detail) return <EventDetailPage leafIndex={Number(detail[1])} />;
  switch (props.path) {
    case '/':
      return readsEvents ? <EventsPage key={key} query={props.query} /> : <DirectoryPage />;
    case '/events':
      return <EventsPage key={key} query={props.query} />;
    case '/log':
      return <LogPage />;
    case '/activity':
      return <ActivityPage key={key} query={props.query} />;
    case '/directory':
      return <DirectoryPage />;
    default:
      return (
        <section>
          <h1>Not found</h1>
          <p>
            No page at {props.path}. <Link href="/events">Go to the events</Link>.
          </p>
        </section>
      );
  }
}
