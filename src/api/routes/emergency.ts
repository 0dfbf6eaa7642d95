// Emergency audio, upload and management: list (read), preview (read), upload / activate / delete
// (write). Uploads are checked in full before they are accepted (see ../emergency-library.ts).
import { createReadStream } from 'node:fs';
import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actor } from '../auth.js';
import type { ApiContext } from '../context.js';
import type { EmergencyFile } from '../emergency-library.js';
import { ApiError } from '../errors.js';
import { guard, principalOf } from '../guard.js';
import { emergencyFile, emergencyList, errorBody, idParams, uploadQuery } from '../schemas.js';

const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody, 429: errorBody, 503: errorBody };
const AUDIO_TYPE: Record<string, string> = {
  mp3: 'audio/mpeg',
  aac: 'audio/aac',
  m4a: 'audio/mp4',
  ogg: 'audio/ogg',
  opus: 'audio/ogg',
  flac: 'audio/flac',
  wav: 'audio/wav',
};

export function emergencyRoutes(ctx: ApiContext): FastifyPluginAsyncZod {
  return async (app) => {
    const read = guard(ctx.auth, 'read');
    const write = guard(ctx.auth, 'write');
    const view = (f: EmergencyFile): z.infer<typeof emergencyFile> => ({ ...f, active: ctx.library.list().active === f.id });
    // Only files: a single part named `file`, at most uploadMaxBytes; fields are not used.
    await app.register(multipart, { limits: { fileSize: ctx.config.uploadMaxBytes, files: 1, fields: 0, parts: 1, headerPairs: 50 } });

    app.get(
      '/api/emergency',
      {
        onRequest: read,
        schema: { summary: 'Emergency files and which is active', tags: ['emergency'], response: { 200: emergencyList, ...errors } },
      },
      async () => {
        const l = ctx.library.list();
        return { active: l.active, files: l.files.map(view) };
      },
    );

    app.post(
      '/api/emergency',
      {
        onRequest: write,
        schema: {
          summary: 'Upload an emergency file (multipart, field `file`); ?activate=1 puts it on at once',
          description:
            `MP3, AAC/M4A, Ogg Vorbis, Opus, FLAC or WAV, at most ${ctx.config.uploadMaxBytes} bytes, ` +
            'decoded in full before it is accepted.',
          tags: ['emergency'],
          consumes: ['multipart/form-data'],
          querystring: uploadQuery,
          response: { 201: emergencyFile, 413: errorBody, 422: errorBody, ...errors },
        },
      },
      async (req, reply) => {
        const by = actor(principalOf(req));
        if (!req.isMultipart()) throw new ApiError(400, 'BAD_REQUEST', 'send multipart/form-data with the audio in a field named "file"');
        const part = await req.file().catch((err: unknown) => {
          throw tooLarge(err) ?? new ApiError(400, 'BAD_REQUEST', `unreadable multipart body: ${(err as Error).message}`);
        });
        if (!part) throw new ApiError(400, 'BAD_REQUEST', 'no file: send the audio in a field named "file"');
        if (part.fieldname !== 'file') {
          part.file.resume();
          throw new ApiError(400, 'BAD_REQUEST', `the audio goes in a field named "file", not "${part.fieldname}"`);
        }
        let file: EmergencyFile;
        try {
          file = await ctx.library.add(part.file, part.filename, by);
        } catch (err) {
          throw tooLarge(err) ?? err;
        }
        ctx.timeline.add('emergency-upload', { id: file.id, name: file.name, format: file.format, bytes: file.bytes }, by);
        if (req.query.activate === '1' || req.query.activate === 'true') {
          await ctx.library.activate(file.id);
          ctx.timeline.add('emergency-activate', { id: file.id, name: file.name }, by);
        }
        return reply.code(201).send(view(file));
      },
    );

    app.post(
      '/api/emergency/:id/activate',
      {
        onRequest: write,
        schema: {
          summary: 'Make a file the emergency audio (live)',
          tags: ['emergency'],
          params: idParams,
          response: { 200: emergencyFile, 422: errorBody, ...errors },
        },
      },
      async (req) => {
        const file = await ctx.library.activate(req.params.id);
        ctx.timeline.add('emergency-activate', { id: file.id, name: file.name }, actor(principalOf(req)));
        return view(file);
      },
    );

    app.delete(
      '/api/emergency/:id',
      {
        onRequest: write,
        schema: {
          summary: 'Delete a file (409 for the active one)',
          tags: ['emergency'],
          params: idParams,
          response: { 204: z.null(), ...errors },
        },
      },
      async (req, reply) => {
        await ctx.library.remove(req.params.id);
        ctx.timeline.add('emergency-delete', { id: req.params.id }, actor(principalOf(req)));
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/api/emergency/:id/audio',
      {
        onRequest: read,
        schema: {
          summary: 'The file itself, to preview',
          tags: ['emergency'],
          params: idParams,
          response: { 200: z.unknown().describe('the audio file'), ...errors },
        },
      },
      async (req, reply) => {
        const a = await ctx.library.audio(req.params.id);
        return reply
          .type(AUDIO_TYPE[a.format] ?? 'application/octet-stream')
          .header('content-length', a.bytes)
          .header('cache-control', 'private, max-age=3600')
          .send(createReadStream(a.path));
      },
    );
  };

  function tooLarge(err: unknown): ApiError | undefined {
    const code = (err as { code?: string }).code;
    if (code === 'FST_REQ_FILE_TOO_LARGE' || (err as { statusCode?: number }).statusCode === 413)
      return new ApiError(413, 'UPLOAD_TOO_LARGE', `the upload is larger than ${ctx.config.uploadMaxBytes} bytes`);
    return undefined;
  }
}
