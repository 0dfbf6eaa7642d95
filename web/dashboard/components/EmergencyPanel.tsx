// The emergency audio library: each file with its length and level, which one plays, a preview (read
// with the operator's credentials, so through a blob URL), and for the write role: upload with a
// progress bar (the server's reason when it refuses a file), activate, delete.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiFailure, type Api } from '../../shared/api.js';
import { bytes, dateTime, duration } from '../../shared/format.js';
import type { EmergencyFile, EmergencyList } from '../../shared/types.js';
import type { ConfirmRequest } from './ConfirmDialog.js';
import { memo } from '../../shared/memo.js';

function EmergencyPanelView({
  api,
  canWrite,
  activeId,
  activeDurationMs,
  confirm,
}: {
  api: Api;
  canWrite: boolean;
  activeId: string | undefined;
  /** The mixer's length of the active file (the built-in file has no entry of its own in the library). */
  activeDurationMs: number | undefined;
  confirm: (r: ConfirmRequest) => void;
}) {
  const [list, setList] = useState<EmergencyList | null>(null);
  const [message, setMessage] = useState<{ text: string; bad: boolean } | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [activate, setActivate] = useState(true);
  const [preview, setPreview] = useState<{ id: string; url: string } | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  const load = async (): Promise<void> => {
    try {
      setList(await api.get<EmergencyList>('/api/emergency'));
    } catch (err) {
      setMessage({ text: err instanceof Error ? err.message : String(err), bad: true });
    }
  };
  // Read again when the active file changes (another operator, or this page).
  useEffect(() => void load(), [api, activeId]);
  useEffect(() => () => preview && URL.revokeObjectURL(preview.url), [preview]);

  const act = async (what: () => Promise<unknown>, done: string): Promise<void> => {
    try {
      await what();
      setMessage({ text: done, bad: false });
    } catch (err) {
      setMessage({ text: err instanceof ApiFailure ? `${err.message} (${err.code})` : String(err), bad: true });
    }
    await load();
  };

  const upload = async (): Promise<void> => {
    const file = fileInput.current?.files?.[0];
    if (!file) return setMessage({ text: 'Choose an audio file first.', bad: true });
    setProgress(0);
    setMessage(null);
    try {
      const f = await api.upload<EmergencyFile>(`/api/emergency${activate ? '?activate=1' : ''}`, file, setProgress);
      setMessage({
        text: `“${f.name}” uploaded (${duration(f.durationMs)})${activate ? ' and now the emergency audio' : ''}.`,
        bad: false,
      });
      if (fileInput.current) fileInput.current.value = '';
    } catch (err) {
      setMessage({ text: err instanceof ApiFailure ? `Refused: ${err.message}` : String(err), bad: true });
    } finally {
      setProgress(null);
      await load();
    }
  };

  const listen = async (f: EmergencyFile): Promise<void> => {
    try {
      const blob = await (await api.request('GET', `/api/emergency/${f.id}/audio`)).blob();
      setPreview({ id: f.id, url: URL.createObjectURL(blob) });
    } catch (err) {
      setMessage({ text: err instanceof Error ? err.message : String(err), bad: true });
    }
  };

  return (
    <section class="card" aria-labelledby="emergency-label">
      <h2 id="emergency-label">Emergency audio</h2>
      <p class="muted">Loops when neither studio is usable.</p>
      <ul class="files" data-testid="emergency-files">
        {list?.files.map((f) => (
          <li key={f.id} class={f.active ? 'active' : ''} data-testid="emergency-file" data-active={f.active}>
            <div class="file-main">
              <b>{f.name}</b> {f.active && <span class="badge">active</span>}
              <div class="muted small">
                {f.builtIn
                  ? `built in${f.active && activeDurationMs ? ` · ${duration(activeDurationMs)}` : ''} · ${f.format}`
                  : `${duration(f.durationMs)} · ${f.format} · ${bytes(f.bytes)} · ${f.levelDb.toFixed(1)} dBFS · ${f.uploadedBy}, ${dateTime(f.uploadedAt)}`}
              </div>
              {preview?.id === f.id && <audio controls autoplay src={preview.url} aria-label={`Preview of ${f.name}`} />}
            </div>
            <div class="file-actions">
              <button type="button" onClick={() => void listen(f)}>
                Preview
              </button>
              {canWrite && !f.active && (
                <button
                  type="button"
                  onClick={() =>
                    confirm({
                      title: 'Use this emergency audio?',
                      body: <p>“{f.name}” will loop whenever neither studio is usable, starting now if the emergency audio is on air.</p>,
                      confirm: 'Activate',
                      run: () => act(() => api.post(`/api/emergency/${f.id}/activate`), `“${f.name}” is now the emergency audio.`),
                    })
                  }
                >
                  Activate
                </button>
              )}
              {canWrite && !f.active && !f.builtIn && (
                <button
                  type="button"
                  class="danger"
                  onClick={() =>
                    confirm({
                      title: 'Delete this file?',
                      body: <p>“{f.name}” will be removed from the server.</p>,
                      confirm: 'Delete',
                      danger: true,
                      run: () => act(() => api.delete(`/api/emergency/${f.id}`), `“${f.name}” deleted.`),
                    })
                  }
                >
                  Delete
                </button>
              )}
            </div>
          </li>
        ))}
      </ul>
      {canWrite && (
        <form
          class="upload"
          onSubmit={(e) => {
            e.preventDefault();
            void upload();
          }}
        >
          <label class="file-label">
            <span>Upload a file (MP3, AAC, M4A, Ogg, Opus, FLAC, WAV)</span>
            <input ref={fileInput} type="file" accept="audio/*,.mp3,.aac,.m4a,.ogg,.opus,.flac,.wav" data-testid="upload-file" />
          </label>
          <label class="check">
            <input type="checkbox" checked={activate} onChange={(e) => setActivate(e.currentTarget.checked)} /> make it the active file
          </label>
          <button type="submit" class="primary" disabled={progress !== null} data-testid="upload">
            Upload
          </button>
          {progress !== null && (
            <progress max={1} value={progress} aria-label="Upload progress">
              {Math.round(progress * 100)} %
            </progress>
          )}
        </form>
      )}
      {message && (
        <p class={message.bad ? 'bad-text' : 'ok-text'} role={message.bad ? 'alert' : 'status'} data-testid="emergency-message">
          {message.text}
        </p>
      )}
    </section>
  );
}

export const EmergencyPanel = memo(EmergencyPanelView);
