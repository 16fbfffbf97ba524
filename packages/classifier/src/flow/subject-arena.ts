// Storage for the pattern subjects of flows under inspection: blocks of 32..4096 bytes (in
// steps of x1.5 or x1.33) cut from 64 KiB slabs, instead of an ArrayBuffer per flow (each
// of which costs a few hundred bytes of bookkeeping inside and outside V8's heap besides
// its bytes: at 100,000 flows under inspection that was most of their memory). A block is
// a number (slab * 65536 + offset); bigger subjects get a Buffer of their own. A slab holds
// blocks of one size; it is given back once all of them are free (unless it is the last
// one of its size with room), so the flows' growth through the sizes leaves nothing behind.

const SIZES = [32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096];
const SLAB = 65536;

/** The largest block the arena hands out. */
export const ARENA_MAX_BLOCK = SIZES[SIZES.length - 1]!;

interface Slab {
  index: number;
  bytes: Buffer;
  sizeClass: number;
  /** Free block numbers (offset / size), a stack of `top` entries. */
  free: Uint16Array;
  top: number;
  /** In its size's list of slabs with free blocks. */
  listed: boolean;
}

export class SubjectArena {
  private readonly slabs: (Slab | null)[] = [];
  private readonly unusedIndexes: number[] = [];
  /** Per size: slabs with a free block. */
  private readonly withRoom: Slab[][] = SIZES.map(() => []);
  private liveSlabs = 0;
  /** Blocks handed out and not released. */
  inUse = 0;

  /** Bytes of the block that holds `size` bytes (0: too big for the arena). */
  static blockSize(size: number): number {
    for (const s of SIZES) if (s >= size) return s;
    return 0;
  }

  /** Bytes of the slabs held now. */
  get slabBytes(): number {
    return this.liveSlabs * SLAB;
  }

  /** A block of `blockSize` bytes (a value `SubjectArena.blockSize` gave). */
  alloc(blockSize: number): number {
    const c = SIZES.indexOf(blockSize);
    const list = this.withRoom[c]!;
    let slab = list[list.length - 1];
    if (slab === undefined) {
      slab = this.newSlab(c);
      list.push(slab);
    }
    const n = slab.free[--slab.top]!;
    if (slab.top === 0) {
      list.pop();
      slab.listed = false;
    }
    this.inUse++;
    return slab.index * SLAB + n * blockSize;
  }

  release(block: number): void {
    const index = Math.floor(block / SLAB);
    const slab = this.slabs[index]!;
    const size = SIZES[slab.sizeClass]!;
    slab.free[slab.top++] = (block - index * SLAB) / size;
    this.inUse--;
    const list = this.withRoom[slab.sizeClass]!;
    if (!slab.listed) {
      list.push(slab);
      slab.listed = true;
    }
    if (slab.top === slab.free.length && list.length > 1) {
      list.splice(list.indexOf(slab), 1);
      this.slabs[index] = null;
      this.unusedIndexes.push(index);
      this.liveSlabs--;
    }
  }

  /** The size of a block handed out. */
  sizeOf(block: number): number {
    return SIZES[this.slabs[Math.floor(block / SLAB)]!.sizeClass]!;
  }

  /** The first `length` bytes of a block (a view: valid until the block is released). */
  view(block: number, length: number): Buffer {
    const index = Math.floor(block / SLAB);
    const off = block - index * SLAB;
    return this.slabs[index]!.bytes.subarray(off, off + length);
  }

  private newSlab(sizeClass: number): Slab {
    const count = Math.floor(SLAB / SIZES[sizeClass]!);
    const free = new Uint16Array(count);
    for (let i = 0; i < count; i++) free[i] = count - 1 - i;
    const index = this.unusedIndexes.pop() ?? this.slabs.length;
    const slab: Slab = {
      index,
      bytes: Buffer.allocUnsafeSlow(SLAB),
      sizeClass,
      free,
      top: count,
      listed: true,
    };
    this.slabs[index] = slab;
    this.liveSlabs++;
    return slab;
  }
}

/** The arena of this thread's flow subjects. */
export const subjectArena = new SubjectArena();
