import type { Readable } from 'node:stream';
import type { ContainerClient } from '@azure/storage-blob';
import pLimit from 'p-limit';
import type { FileInfo, FileStore } from '../../sync/ports.js';
import { statusOf } from '../table/keys.js';

/** Files as block blobs in one container. */
export class BlobFileStore implements FileStore {
  constructor(private readonly container: ContainerClient) {}

  async put(path: string, content: Buffer | string, metadata?: Record<string, string>): Promise<void> {
    const body = typeof content === 'string' ? Buffer.from(content) : content;
    await this.container.getBlockBlobClient(path).uploadData(body, metadata ? { metadata } : {});
  }

  async putStream(path: string, content: Readable): Promise<number> {
    let bytes = 0;
    content.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    await this.container.getBlockBlobClient(path).uploadStream(content, 4 * 1024 * 1024, 4);
    return bytes;
  }

  async putIfAbsent(path: string, content: Buffer | string): Promise<boolean> {
    const body = typeof content === 'string' ? Buffer.from(content) : content;
    try {
      await this.container.getBlockBlobClient(path).uploadData(body, { conditions: { ifNoneMatch: '*' } });
      return true;
    } catch (error) {
      const status = statusOf(error);
      if (status === 409 || status === 412) return false;
      throw error;
    }
  }

  async get(path: string): Promise<Buffer | undefined> {
    // One GET: downloadToBuffer first asks for the blob's properties, doubling the requests of a
    // reconcile job that reads hundreds of small staged pages.
    return this.download(path, 0);
  }

  async getRange(path: string, offset: number, count: number): Promise<Buffer | undefined> {
    return count === 0 ? ((await this.exists(path)) ? Buffer.alloc(0) : undefined) : this.download(path, offset, count);
  }

  private async download(path: string, offset: number, count?: number): Promise<Buffer | undefined> {
    try {
      const response = await this.container.getBlobClient(path).download(offset, count);
      const chunks: Buffer[] = [];
      for await (const chunk of response.readableStreamBody ?? []) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async read(path: string, offset = 0): Promise<Readable | undefined> {
    try {
      const response = await this.container.getBlobClient(path).download(offset);
      return response.readableStreamBody as Readable | undefined;
    } catch (error) {
      // 416: the offset is the end of the file.
      if (statusOf(error) === 416) {
        const { Readable: ReadableStream } = await import('node:stream');
        return ReadableStream.from([]);
      }
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async exists(path: string): Promise<boolean> {
    return this.container.getBlobClient(path).exists();
  }

  async list(prefix: string): Promise<FileInfo[]> {
    const files: FileInfo[] = [];
    for await (const blob of this.container.listBlobsFlat({ prefix, includeMetadata: true })) files.push({ path: blob.name, metadata: blob.metadata ?? {} });
    return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async deletePrefix(prefix: string): Promise<number> {
    return this.deleteAll((await this.list(prefix)).map((file) => file.path));
  }

  async deleteBefore(end: string): Promise<number> {
    const names: string[] = [];
    // Blob listings come sorted by name: stop at the first name past `end` (small pages, so a sweep
    // that finds nothing to delete reads little).
    listing: for await (const page of this.container.listBlobsFlat().byPage({ maxPageSize: 200 })) {
      for (const blob of page.segment.blobItems) {
        if (blob.name >= end) break listing;
        names.push(blob.name);
      }
    }
    return this.deleteAll(names);
  }

  private async deleteAll(names: string[]): Promise<number> {
    // A large run stages thousands of pages: delete a few at a time, not all at once.
    const limit = pLimit(16);
    await Promise.all(names.map((name) => limit(() => this.container.getBlobClient(name).deleteIfExists())));
    return names.length;
  }
}
