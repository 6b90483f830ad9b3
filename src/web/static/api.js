let me;

/** Who is signed in, with the CSRF token every POST must echo. */
export async function whoAmI() {
  me ??= await call('me');
  return me;
}

export function can(role) {
  return me.roles.includes(role) || me.roles.includes('admin');
}

/** The console's JSON API. Same origin only; the session cookie rides along by itself. */
export async function call(path, { method = 'GET', body } = {}) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = me.csrf;
  const res = await fetch(`/console/api/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  if (res.status === 401) {
    location.assign('/console/sign-in');
    throw new Error('signed out');
  }
  const json = res.status === 204 ? null : await res.json();
  if (!res.ok) throw new Error(json?.error?.message ?? `HTTP ${res.status}`);
  return json;
}
