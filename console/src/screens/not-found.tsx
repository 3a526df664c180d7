import { Link } from 'react-router-dom';

export function NotFound() {
  return (
    <section aria-labelledby="not-found-title">
      <h1 id="not-found-title">Page not found</h1>
      <p>
        There is nothing at this address. Go to <Link to="/connections">Connections</Link>.
      </p>
    </section>
  );
}
