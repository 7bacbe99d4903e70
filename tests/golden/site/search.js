// The search page: queries the Pagefind index the build writes into pagefind/ (no server; the
// index is fetched in small pieces from the site itself). Results link to each entry on its day's
// page, in this page's interface language. Feed text in results is only ever set as text.
const form = document.querySelector(".search-form");
const status = document.getElementById("search-status");
const list = document.getElementById("search-results");
const words = JSON.parse(document.getElementById("search-words").textContent);
const input = document.getElementById("search-q");
const language = document.getElementById("search-language");
const topic = document.getElementById("search-topic");
const root = form.dataset.root;
const uiRoot = form.dataset.uiRoot;
const plural = new Intl.PluralRules(words.ui);
const MAX_RESULTS = 50;

function say(text) {
  status.textContent = text;
}

function found(n) {
  const form = words.found[plural.select(n)] || words.found.other;
  return form.replace("{n}", n.toLocaleString(words.ui));
}

// Pagefind's excerpt is HTML with <mark> around the hits: keep the text and the marks only.
function excerptNodes(html) {
  const doc = new DOMParser().parseFromString(`<p>${html}</p>`, "text/html");
  const out = [];
  for (const node of doc.body.firstChild.childNodes) {
    if (node.nodeType === Node.TEXT_NODE) {
      out.push(document.createTextNode(node.textContent));
    } else if (node.nodeName === "MARK") {
      const mark = document.createElement("mark");
      mark.textContent = node.textContent;
      out.push(mark);
    } else {
      out.push(document.createTextNode(node.textContent));
    }
  }
  return out;
}

// An entry's date as the site shows it: date and time in the site's zone; the date alone when
// the feed gave no time (stored as midnight UTC, see render/views.py feed_day).
function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  try {
    if (/T00:00:00(\.0+)?(\+00:00|Z)$/.test(iso)) {
      return date.toLocaleDateString(words.ui, { dateStyle: "medium", timeZone: "UTC" });
    }
    return date.toLocaleString(words.ui, { dateStyle: "medium", timeStyle: "short",
                                           timeZone: words.timezone });
  } catch (error) {
    return iso.slice(0, 10);
  }
}

function resultItem(data) {
  const li = document.createElement("li");
  li.className = "search-result";
  const meta = data.meta || {};
  const heading = document.createElement("h2");
  heading.className = "search-result-title";
  const a = document.createElement("a");
  // the record's url is "archive/…" under an interface root; Pagefind gives it as "/archive/…"
  a.href = uiRoot + data.url.slice(Math.max(0, data.url.indexOf("archive/")));
  a.textContent = meta.title || data.url;
  if (meta.lang) a.lang = meta.lang;
  heading.append(a);
  const info = document.createElement("p");
  info.className = "entry-meta";
  const parts = [meta.source, when(meta.date), words.languages[meta.lang], words.topics[meta.topic]];
  info.textContent = parts.filter(Boolean).join(" · ");
  const excerpt = document.createElement("p");
  excerpt.className = "search-excerpt";
  if (meta.lang) excerpt.lang = meta.lang;
  excerpt.append(...excerptNodes(data.excerpt || ""));
  li.append(heading, info);
  // a headline-only entry's excerpt is its title again: shown once is enough
  const same = excerpt.textContent.replace(/\s+/g, " ").trim() === a.textContent.replace(/\s+/g, " ").trim();
  if (same) {
    a.replaceChildren(...excerptNodes(data.excerpt)); // the words found, marked in the title
  } else {
    li.append(excerpt);
  }
  return li;
}

let pagefind = null;
let latest = 0;

async function load() {
  if (!pagefind) {
    // absolute: at the site's top the root is "", and "pagefind/..." would be a bare module name
    const folder = new URL(`${root}pagefind/`, location.href).href;
    // one index per month of entries, newest first (a build re-indexes only the months that
    // changed); the newest is searched with the others merged into it
    const response = await fetch(`${folder}shards.json`, { cache: "no-cache" });
    const shards = (await response.json()).shards;
    if (!shards.length) return null;
    pagefind = await import(`${folder}${shards[0]}/pagefind.js`);
    // baseUrl "/": every result's url is then "/archive/…", made relative to this page below
    await pagefind.options({ basePath: `${folder}${shards[0]}/`, baseUrl: "/" });
    for (const shard of shards.slice(1)) {
      await pagefind.mergeIndex(`${folder}${shard}/`, { baseUrl: "/" });
    }
    await pagefind.init();
  }
  return pagefind;
}

async function run() {
  const query = input.value.trim();
  const mine = ++latest;
  const filters = {};
  if (language.value) filters.language = language.value;
  if (topic.value) filters.topic = topic.value;
  if (!query) {
    list.replaceChildren();
    say(words.ready);
    return;
  }
  say(words.searching);
  const pf = await load();
  const search = pf ? await pf.search(query, { filters }) : null; // null: nothing indexed yet
  if (mine !== latest) return; // a newer query is on its way
  const results = search ? search.results : [];
  const data = await Promise.all(results.slice(0, MAX_RESULTS).map((r) => r.data()));
  if (mine !== latest) return;
  list.replaceChildren(...data.map(resultItem));
  say(results.length ? found(results.length) : words.none);
  list.dataset.query = query; // what the list shows results for (the browser tests wait on it)
}

async function start() {
  const params = new URLSearchParams(location.search);
  input.value = params.get("q") || "";
  language.value = params.get("language") || "";
  topic.value = params.get("topic") || "";
  if (location.protocol === "file:") {
    say(words.needs_js); // the index cannot be fetched from a folder opened as files
    return;
  }
  let timer = 0;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(run, 150);
  });
  for (const select of [language, topic]) select.addEventListener("change", run);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    if (input.value.trim()) params.set("q", input.value.trim());
    if (language.value) params.set("language", language.value);
    if (topic.value) params.set("topic", topic.value);
    history.replaceState(null, "", params.toString() ? `?${params}` : location.pathname);
    run();
  });
  try {
    await run();
  } catch (error) {
    say(words.needs_js);
    console.warn("search unavailable:", error);
  }
}

start();
