// The web chat page: sends each turn to POST /web/api/turn and appends the HTML the server
// rendered (web_render.cpp escapes every piece of text, so it is inserted as is). The
// conversation and user ids live in localStorage, so a reload continues the same case.
(function () {
  'use strict';
  const log = document.getElementById('log');
  const form = document.getElementById('composer');
  const box = document.getElementById('box');
  const statusLine = document.getElementById('status');
  if (!log || !form || !box) return;

  function newId(prefix) {
    const bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }
  function stored(name, prefix) {
    let v = null;
    try { v = localStorage.getItem(name); } catch (e) { /* storage off: a fresh id per page */ }
    if (!v || !/^[A-Za-z0-9_-]{1,64}$/.test(v)) {
      v = newId(prefix);
      try { localStorage.setItem(name, v); } catch (e) { /* ignore */ }
    }
    return v;
  }
  let resumed = false;
  try { resumed = !!localStorage.getItem('mailguide.conversation'); } catch (e) { /* ignore */ }
  let conversation = stored('mailguide.conversation', 'c-');
  const user = stored('mailguide.user', 'u-');
  let busy = false;

  function setStatus(text) { statusLine.textContent = text; }

  function showMine(text) {
    const div = document.createElement('div');
    div.className = 'mine';
    const who = document.createElement('span');
    who.className = 'visually-hidden';
    who.textContent = 'You: ';
    const p = document.createElement('p');
    p.textContent = text;
    div.append(who, p);
    log.append(div);
    div.scrollIntoView({ block: 'end' });
  }

  function showError(text) {
    const div = document.createElement('div');
    div.className = 'reply error';
    div.setAttribute('role', 'alert');
    div.textContent = text;
    log.append(div);
  }

  function showReplies(replies, fromClick) {
    let focusTarget = null;
    let firstNew = null;
    for (const r of replies) {
      const holder = document.createElement('div');
      holder.innerHTML = r.html;
      const article = holder.firstElementChild;
      if (!article) continue;
      log.append(article);
      if (!firstNew) firstNew = article;
      if (r.asks) focusTarget = article;
      else if (!focusTarget && article.classList.contains('summary')) focusTarget = article;
    }
    // Show the new replies whole when they fit above the message box, else from their top.
    const last = log.lastElementChild;
    if (firstNew && last) {
      const room = window.innerHeight - form.getBoundingClientRect().height - 32;
      const span = last.getBoundingClientRect().bottom - firstNew.getBoundingClientRect().top;
      if (span > room) firstNew.scrollIntoView({ block: 'start' });
      else last.scrollIntoView({ block: 'end' });
    }
    if (fromClick) {
      // The clicked buttons are gone: move focus to the new question (its heading), so Tab
      // reaches its answers next. After typing, focus stays in the box.
      const target = focusTarget || last;
      const heading = target && target.querySelector('h2');
      if (heading) heading.focus();
      else if (target) { target.setAttribute('tabindex', '-1'); target.focus(); }
    }
  }

  async function poll(tries) {
    for (let i = 0; i < tries; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const res = await post({ poll: true });
      const data = await res.json();
      if (data.replies && data.replies.length) return data;
    }
    return null;
  }

  function post(payload) {
    payload.conversation = conversation;
    payload.user = user;
    return fetch('/web/api/turn', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify(payload),
    });
  }

  async function send(payload, fromClick) {
    busy = true;
    form.setAttribute('aria-busy', 'true');
    setStatus('mailguide is thinking…');
    try {
      payload.id = newId('m-');
      const res = await post(payload);
      if (res.status === 401) {
        showError('The web chat needs its token: open the link with ?token=… again.');
        return;
      }
      if (res.status === 429) {
        showError('Too many messages at once; wait a moment and try again.');
        return;
      }
      if (!res.ok) {
        showError('mailguide could not take that message (' + res.status + '): ' + (await res.text()));
        return;
      }
      const text = await res.text();
      let data = text ? JSON.parse(text) : await poll(15);
      if (!data) {
        showError('mailguide is taking a long time; try again in a minute.');
        return;
      }
      showReplies(data.replies || [], fromClick);
      setStatus(data.status === 'waiting' ? '' : '');
    } catch (e) {
      showError('mailguide is not reachable: ' + e.message);
    } finally {
      busy = false;
      form.removeAttribute('aria-busy');
      if (statusLine.textContent === 'mailguide is thinking…') setStatus('');
    }
  }

  // /smtp-code … and /mailguide … are commands, as in Slack; anything else is text.
  function sendTyped(raw) {
    const text = raw.replace(/\s+$/, '');
    if (!text.trim()) return;
    const m = /^\s*\/(smtp-code|mailguide)(?:\s+([\s\S]*))?$/.exec(text);
    showMine(text);
    if (m) send({ command: m[1], text: m[2] || '' }, false);
    else send({ text: text }, false);
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (busy) return;
    const text = box.value;
    box.value = '';
    sendTyped(text);
    box.focus();
  });

  box.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });

  log.addEventListener('click', async (ev) => {
    const button = ev.target.closest('button');
    if (!button || !log.contains(button)) return;
    if (button.classList.contains('choice')) {
      if (busy) return;
      const group = button.closest('.choices');
      for (const b of group.querySelectorAll('button')) b.disabled = true;
      button.classList.add('chosen');
      button.setAttribute('aria-pressed', 'true');
      showMine(button.textContent);
      send({ choice: button.dataset.choice, step_token: button.dataset.stepToken || '' }, true);
    } else if (button.classList.contains('copy')) {
      const block = button.closest('.copyable');
      const text = block.querySelector('pre').textContent;
      const feedback = block.querySelector('.copied');
      try {
        await navigator.clipboard.writeText(text);
        feedback.textContent = 'Copied to the clipboard';
      } catch (e) {
        // No clipboard permission (an insecure origin): select the text for Ctrl+C instead.
        const range = document.createRange();
        range.selectNodeContents(block.querySelector('pre'));
        const sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
        feedback.textContent = 'Selected: press Ctrl+C to copy';
      }
      button.classList.add('done');
    }
  });

  function prefill(text) {
    box.value = text;
    box.focus();
    box.setSelectionRange(text.length, text.length);
  }
  document.getElementById('paste-bounce').addEventListener('click', () => {
    prefill('/smtp-code\n');
    setStatus('Paste the bounce message after /smtp-code, then press Enter.');
  });
  document.getElementById('smtp-help').addEventListener('click', () => {
    prefill('/smtp-code ');
    setStatus('Type the code, such as 550 5.7.26, then press Enter.');
  });
  document.getElementById('new-conversation').addEventListener('click', () => {
    conversation = newId('c-');
    try { localStorage.setItem('mailguide.conversation', conversation); } catch (e) { /* ignore */ }
    log.replaceChildren();
    send({ command: 'mailguide', text: 'help' }, true);
  });

  // A reload continues the stored conversation (an empty turn repeats the open question).
  if (resumed) send({ text: '' }, false);
  else send({ command: 'mailguide', text: 'help' }, false);
})();
