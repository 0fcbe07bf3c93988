// upload.js is the browser half of Pinhole's direct-to-storage upload
// (SPEC §4). For each photo the user picks or drops, it:
//
//  1. checks the file here: an image type the server takes, within the size
//     limit (the server checks again; this only saves a wasted upload);
//  2. makes a JPEG thumbnail, about 400 px on its longest side, with a canvas;
//  3. gets temporary storage credentials from POST /api/credentials, reusing
//     them until two minutes before they expire;
//  4. PUTs the photo and the thumbnail straight to MinIO, each request signed
//     here with SigV4 (aws4fetch) and sent with XMLHttpRequest, the one
//     browser API that reports upload progress;
//  5. registers the photo with POST /api/photos, which checks what landed.
//
// The app never receives the photo's bytes: only the two small JSON calls.
// It is an ES module with no build step, served from our own origin, as the
// page's Content-Security-Policy (script-src 'self') requires. The page
// configures it with data-* attributes on [data-upload].

import { AwsClient } from './vendor/aws4fetch/aws4fetch.esm.js';

// THUMB_SIZE is the thumbnail's longest side in pixels; THUMB_QUALITY its
// JPEG quality, which keeps a thumbnail at a few tens of kilobytes.
const THUMB_SIZE = 400;
const THUMB_QUALITY = 0.85;

// Credentials are fetched again when less than this is left of them, so an
// upload never starts with credentials that expire halfway through.
const REFRESH_MARGIN_MS = 2 * 60 * 1000;

// The types the server takes, and the extension each is stored under.
const EXTENSIONS = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/heic': 'heic',
  'image/heif': 'heic',
  'image/avif': 'avif',
};

// Types by file extension, for browsers that report no type for a file
// (most do for HEIC, which only Safari decodes).
const TYPES_BY_EXTENSION = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
  avif: 'image/avif',
};

// S3 error codes that mean "these credentials are no longer good": fetch
// new ones and try once more. MinIO forgets expired temporary users, so it
// may answer InvalidAccessKeyId rather than ExpiredToken.
const EXPIRED_CODES = new Set(['ExpiredToken', 'InvalidToken', 'TokenRefreshRequired', 'InvalidAccessKeyId']);

/** UploadError is a failure worth telling the user about, in their words. */
class UploadError extends Error {
  /**
   * @param {string} message what to show
   * @param {{retry?: boolean, credentialsExpired?: boolean}} [options]
   *   retry: whether a Retry button could help; credentialsExpired: whether
   *   new credentials could.
   */
  constructor(message, { retry = true, credentialsExpired = false } = {}) {
    super(message);
    this.retry = retry;
    this.credentialsExpired = credentialsExpired;
  }
}

/**
 * Credentials fetches, caches and refreshes the temporary storage
 * credentials of this browser's session.
 */
class Credentials {
  constructor(url) {
    this.url = url;
    this.current = null;
    this.pending = null;
  }

  /** get returns credentials with at least REFRESH_MARGIN_MS left. */
  async get() {
    if (this.current && Date.parse(this.current.expiration) - Date.now() > REFRESH_MARGIN_MS) {
      return this.current;
    }
    // Uploads that ask at the same time share one request.
    this.pending ??= this.fetch().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  /** invalidate drops the cached credentials, after storage refused them. */
  invalidate() {
    this.current = null;
  }

  async fetch() {
    let res;
    try {
      // Same-origin, so the session cookie goes along; the API needs no CSRF
      // token because browsers mark the request same-origin (Sec-Fetch-Site).
      res = await fetch(this.url, { method: 'POST', credentials: 'same-origin', headers: { Accept: 'application/json' } });
    } catch {
      throw new UploadError('Could not reach Pinhole. Check your connection and try again.');
    }
    if (!res.ok) {
      throw await apiError(res, 'Could not get permission to upload.');
    }
    const creds = await res.json();
    this.current = {
      ...creds,
      // The region and service are named, not guessed: aws4fetch guesses
      // them from AWS host names, and MinIO's is not one.
      client: new AwsClient({
        accessKeyId: creds.access_key_id,
        secretAccessKey: creds.secret_access_key,
        sessionToken: creds.session_token,
        service: 's3',
        region: creds.region,
      }),
    };
    return this.current;
  }
}

/** apiError turns a failed Pinhole API answer into an UploadError. */
async function apiError(res, fallback) {
  if (res.status === 401) {
    return new UploadError('Your session has ended. Sign in again (in another tab), then retry.');
  }
  let body = {};
  try {
    body = await res.json();
  } catch {
    // Not our JSON (a proxy's error page): the fallback says enough.
  }
  // A problem with one field is the most specific thing to say.
  const fieldProblem = body.fields && Object.values(body.fields)[0];
  return new UploadError(fieldProblem || body.message || `${fallback} (HTTP ${res.status})`, {
    // Refusals of the file itself will not change on a retry.
    retry: !['not_an_image', 'photo_too_large', 'invalid_key'].includes(body.error),
  });
}

/** storageError turns MinIO's answer to a PUT into an UploadError. */
function storageError(xhr) {
  let code = '';
  try {
    const doc = new DOMParser().parseFromString(xhr.responseText, 'application/xml');
    code = doc.querySelector('Error > Code')?.textContent ?? '';
  } catch {
    // No readable error document; the status says enough.
  }
  if (EXPIRED_CODES.has(code)) {
    return new UploadError('The upload permission expired. Try again.', { credentialsExpired: true });
  }
  if (xhr.status === 413 || code === 'EntityTooLarge') {
    return new UploadError('Photo storage refused the file as too large.', { retry: false });
  }
  if (xhr.status === 403) {
    return new UploadError(`Photo storage refused the upload (${code || 'access denied'}).`);
  }
  if (xhr.status >= 500) {
    return new UploadError('Photo storage is unavailable right now. Try again shortly.');
  }
  return new UploadError(`Photo storage refused the upload (HTTP ${xhr.status}${code ? ', ' + code : ''}).`);
}

/**
 * put sends body to key with one signed PUT and reports progress in bytes.
 * It resolves when MinIO has stored the object.
 */
async function put(creds, key, body, contentType, onProgress) {
  // Path-style: ${endpoint}/${bucket}/${key}, since MinIO (unlike AWS) does
  // not give every bucket a host name of its own.
  const path = [creds.bucket, ...key.split('/')].map(encodeURIComponent).join('/');
  const url = `${creds.endpoint}/${path}`;
  // UNSIGNED-PAYLOAD: the signature covers the method, the URL and the
  // x-amz-* headers, but not the body, so a 20 MB photo need not be read
  // and hashed before it is sent. S3 and MinIO accept this for PUT; the
  // credentials still reach only this user's folder. The body is not passed
  // to sign() for the same reason: with this header it does not affect the
  // signature.
  const signed = await creds.client.sign(url, {
    method: 'PUT',
    headers: { 'Content-Type': contentType, 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' },
  });
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', signed.url);
    // authorization, x-amz-date, x-amz-security-token, x-amz-content-sha256
    // and content-type. Host, which the signature also covers, is set by
    // the browser from the same URL.
    signed.headers.forEach((value, name) => xhr.setRequestHeader(name, value));
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) {
        onProgress(event.loaded);
      }
    });
    xhr.addEventListener('load', () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(body.size);
        resolve();
      } else {
        reject(storageError(xhr));
      }
    });
    // A network failure, or a CORS refusal, which the browser reports the
    // same way (MinIO's MINIO_API_CORS_ALLOW_ORIGIN must name this site).
    xhr.addEventListener('error', () => {
      reject(new UploadError('Could not reach photo storage. Check your connection and try again.'));
    });
    xhr.send(body);
  });
}

/** makeThumbnail draws file into a JPEG of at most THUMB_SIZE px a side. */
async function makeThumbnail(file) {
  let bitmap;
  try {
    // Decodes off the main thread and applies the EXIF orientation.
    bitmap = await createImageBitmap(file);
  } catch {
    throw new UploadError('This browser cannot open this image to make its thumbnail. Try a JPEG or PNG.', { retry: false });
  }
  const scale = Math.min(1, THUMB_SIZE / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  const ctx = canvas.getContext('2d');
  // JPEG has no transparency: a transparent PNG gets white, not black.
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', THUMB_QUALITY));
  if (!blob) {
    throw new UploadError('Could not make a thumbnail of this image.', { retry: false });
  }
  return blob;
}

/** formatSize says a byte count like the server does: "3.2 MB". */
function formatSize(n) {
  if (n >= 1 << 20) return `${parseFloat((n / (1 << 20)).toPrecision(3))} MB`;
  if (n >= 1 << 10) return `${parseFloat((n / (1 << 10)).toPrecision(3))} KB`;
  return `${n} bytes`;
}

/** typeOf returns the image type of file, or '' if the server would refuse it. */
function typeOf(file) {
  if (EXTENSIONS[file.type]) return file.type;
  if (file.type === '') {
    const ext = file.name.split('.').pop().toLowerCase();
    return TYPES_BY_EXTENSION[ext] ?? '';
  }
  return '';
}

/**
 * Upload is one file's journey, and its row in the list. It remembers which
 * steps are done, so Retry continues where it failed instead of starting
 * over.
 */
class Upload {
  constructor(file, uploader) {
    this.file = file;
    this.uploader = uploader;
    this.id = crypto.randomUUID();
    this.type = typeOf(file);
    this.thumb = null;
    this.photoSent = false;
    this.thumbSent = false;
    this.row = this.render();
  }

  render() {
    const row = document.createElement('li');
    row.className = 'upload-item';
    const head = document.createElement('div');
    head.className = 'upload-item-head';
    const name = document.createElement('span');
    name.className = 'upload-name';
    name.textContent = this.file.name;
    const size = document.createElement('span');
    size.className = 'upload-size';
    size.textContent = formatSize(this.file.size);
    head.append(name, size);
    this.progress = document.createElement('progress');
    this.progress.max = this.file.size;
    this.progress.value = 0;
    this.progress.setAttribute('aria-label', `Upload of ${this.file.name}`);
    this.message = document.createElement('p');
    this.message.className = 'upload-message';
    this.actions = document.createElement('div');
    this.actions.className = 'upload-actions';
    row.append(head, this.progress, this.message, this.actions);
    return row;
  }

  /** setState shows where the upload is: waiting, working, done or failed. */
  setState(state, text) {
    this.row.dataset.state = state;
    this.message.textContent = text;
    this.actions.replaceChildren();
  }

  /** check refuses, before any upload, what the server would refuse. */
  check() {
    if (!this.type) {
      this.setState('failed', 'Not a photo we can take: choose a JPEG, PNG, GIF, WebP, HEIC or AVIF image.');
      return false;
    }
    if (this.file.size > this.uploader.maxBytes) {
      this.setState('failed', `Too large: photos may be at most ${formatSize(this.uploader.maxBytes)}.`);
      return false;
    }
    if (this.file.size === 0) {
      this.setState('failed', 'This file is empty.');
      return false;
    }
    this.setState('waiting', 'Waiting…');
    return true;
  }

  async run() {
    try {
      if (!this.thumb) {
        this.setState('working', 'Making a thumbnail…');
        this.thumb = await makeThumbnail(this.file);
        this.progress.max = this.file.size + this.thumb.size;
      }
      const total = this.progress.max;
      const report = (sent) => {
        this.progress.value = sent;
        this.message.textContent = `Uploading… ${Math.floor((100 * sent) / total)}%`;
      };
      this.setState('working', 'Uploading…');
      const { prefix } = await this.uploader.credentials.get();
      const ext = EXTENSIONS[this.type];
      const key = `${prefix}photos/${this.id}.${ext}`;
      const thumbKey = `${prefix}thumbs/${this.id}.jpg`;
      if (!this.photoSent) {
        await this.uploader.put(key, this.file, this.type, report);
        this.photoSent = true;
      }
      if (!this.thumbSent) {
        await this.uploader.put(thumbKey, this.thumb, 'image/jpeg', (sent) => report(this.file.size + sent));
        this.thumbSent = true;
      }
      this.progress.value = total;
      this.setState('working', 'Saving…');
      await this.uploader.register({ id: this.id, key, thumb_key: thumbKey });
      this.done();
    } catch (err) {
      this.fail(err);
    }
  }

  done() {
    this.progress.value = this.progress.max;
    this.setState('done', 'Done');
    const view = document.createElement('a');
    view.href = `/photos/${this.id}`;
    view.textContent = 'View';
    view.setAttribute('aria-label', `View ${this.file.name}`);
    this.actions.append(view);
  }

  fail(err) {
    const known = err instanceof UploadError;
    if (!known) {
      console.error(err);
    }
    this.setState('failed', known ? err.message : 'Something went wrong. Try again.');
    if (!known || err.retry) {
      const retry = document.createElement('button');
      retry.type = 'button';
      retry.className = 'button button-small button-secondary';
      retry.textContent = 'Retry';
      retry.setAttribute('aria-label', `Retry ${this.file.name}`);
      retry.addEventListener('click', () => {
        this.setState('waiting', 'Waiting…');
        this.uploader.enqueue(this);
      });
      this.actions.append(retry);
    }
  }
}

/**
 * Uploader runs the page: it takes files from the picker and from drops,
 * and uploads them one at a time (each upload already uses the whole
 * connection, and a queue keeps the order and the failures easy to follow).
 */
class Uploader {
  constructor(root) {
    this.root = root;
    this.maxBytes = Number(root.dataset.maxBytes);
    this.photosURL = root.dataset.photosUrl;
    this.credentials = new Credentials(root.dataset.credentialsUrl);
    this.list = root.querySelector('.upload-list');
    this.summary = root.querySelector('.upload-summary');
    this.uploads = [];
    this.queue = [];
    this.running = false;
  }

  start() {
    const input = this.root.querySelector('input[type=file]');
    input.addEventListener('change', () => {
      this.add(input.files);
      // Picking the same file again should upload it again.
      input.value = '';
    });
    const zone = this.root.querySelector('.dropzone');
    zone.addEventListener('dragover', (event) => {
      event.preventDefault();
      zone.classList.add('is-dragging');
    });
    zone.addEventListener('dragleave', () => zone.classList.remove('is-dragging'));
    zone.addEventListener('drop', (event) => {
      event.preventDefault();
      zone.classList.remove('is-dragging');
      this.add(event.dataTransfer.files);
    });
    // A file dropped beside the zone would otherwise replace the page.
    window.addEventListener('dragover', (event) => event.preventDefault());
    window.addEventListener('drop', (event) => event.preventDefault());
    window.addEventListener('beforeunload', (event) => {
      if (this.running) {
        event.preventDefault();
      }
    });
  }

  add(files) {
    for (const file of files) {
      const upload = new Upload(file, this);
      this.uploads.push(upload);
      this.list.append(upload.row);
      if (upload.check()) {
        this.enqueue(upload);
      }
    }
    this.updateSummary();
  }

  enqueue(upload) {
    this.queue.push(upload);
    this.pump();
  }

  async pump() {
    if (this.running) return;
    this.running = true;
    while (this.queue.length > 0) {
      await this.queue.shift().run();
      this.updateSummary();
    }
    this.running = false;
    this.updateSummary();
  }

  /** put uploads one object, with new credentials and one more try if storage says they expired. */
  async put(key, body, contentType, onProgress) {
    try {
      return await put(await this.credentials.get(), key, body, contentType, onProgress);
    } catch (err) {
      if (!(err instanceof UploadError) || !err.credentialsExpired) {
        throw err;
      }
      this.credentials.invalidate();
      return put(await this.credentials.get(), key, body, contentType, onProgress);
    }
  }

  /** register tells the app about a finished upload. */
  async register(photo) {
    let res;
    try {
      res = await fetch(this.photosURL, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(photo),
      });
    } catch {
      throw new UploadError('Could not reach Pinhole to save the photo. Check your connection and try again.');
    }
    if (res.status === 409) {
      // Registered by an earlier attempt whose answer never arrived.
      return;
    }
    if (!res.ok) {
      throw await apiError(res, 'Could not save the photo.');
    }
  }

  updateSummary() {
    const done = this.uploads.filter((u) => u.row.dataset.state === 'done').length;
    const failed = this.uploads.filter((u) => u.row.dataset.state === 'failed').length;
    const total = this.uploads.length;
    this.summary.replaceChildren();
    if (total === 0) return;
    if (this.running) {
      this.summary.textContent = `Uploading: ${done} of ${total} done.`;
      return;
    }
    this.summary.textContent = failed > 0 ? `${done} of ${total} uploaded; ${failed} failed. ` : `All ${total} uploaded. `;
    if (done > 0) {
      const link = document.createElement('a');
      link.href = '/photos';
      link.textContent = 'See your photos';
      this.summary.append(link);
    }
  }
}

const root = document.querySelector('[data-upload]');
if (root) {
  new Uploader(root).start();
}
