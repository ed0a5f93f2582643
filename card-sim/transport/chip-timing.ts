// How long a smart-card chip takes for the work one command did (card-sim/os/card-work.ts): a base per
// command, then each crypto primitive and each persistent write at a real Java Card's measured speed.
// The figures are the JCAlgTest project's on-card timings (bench/README.md, "Card latency model",
// gives every figure with its file and how it was derived); the few that no source gives are marked
// as assumptions.
import type { CryptoOperation } from '../../protocol/crypto-suite.js';
import type { CardWork, CryptoUse } from '../os/card-work.js';

export interface ChipProfile {
  name: string;
  /** Receiving, dispatching and answering one APDU, with the applet's own logic and reads: per command. */
  commandMs: number;
  /** AES-128 Cipher.doFinal: per call and per 16-byte block; Cipher.init; AESKey.setKey. */
  aes: { callMs: number; perBlockMs: number; initMs: number; setKeyMs: number };
  /** AES-128 MAC (Signature.sign): per call and per 16-byte block; Signature.init. */
  mac: { callMs: number; perBlockMs: number; initMs: number };
  /** SHA-256 MessageDigest.doFinal: per call and per 64-byte block (padding included). */
  sha256: { callMs: number; perBlockMs: number };
  /** ECDSA P-256 sign and verify of a one-block message; Signature.init; ECPublicKey.setW (verify with a received key). */
  ecdsa: { signMs: number; verifyMs: number; initMs: number; setPublicKeyMs: number };
  /** P-256 KeyAgreement.generateSecret and its init (a fresh private key each time). */
  ecdh: { ms: number; initMs: number };
  /** P-256 KeyPair.genKeyPair. */
  keyGenerationMs: number;
  /** RandomData.generateData, per call. */
  randomMs: number;
  /** One persistent write (Util.arrayCopy into EEPROM/flash) of up to `smallBytes`, and per byte above. */
  write: { smallMs: number; smallBytes: number; perByteMs: number };
}

/**
 * NXP JCOP4 J3R180 (P71), from JCAlgTest's fixed-data profile (256-byte inputs) and, where per-byte
 * cost matters, the data-dependent profile of the same chip (JCOP4 J3R180 SECID P71).
 */
export const JCOP4_P71: ChipProfile = {
  name: 'NXP JCOP4 J3R180 (P71)',
  commandMs: 2, // assumption: no JCAlgTest figure isolates one APDU's dispatch
  aes: { callMs: 1.53, perBlockMs: 0.0187, initMs: 6.09, setKeyMs: 3.21 },
  mac: { callMs: 1.85, perBlockMs: 0.0187, initMs: 6.13 },
  sha256: { callMs: 0.89, perBlockMs: 1.4 },
  ecdsa: { signMs: 28.2, verifyMs: 26.85, initMs: 8.18, setPublicKeyMs: 3.4 },
  ecdh: { ms: 20.0, initMs: 8.04 },
  keyGenerationMs: 24.4,
  randomMs: 1.19,
  write: { smallMs: 2.85, smallBytes: 64, perByteMs: 0.013125 },
};

/** Processing time of one command, by kind of work. */
export interface ProcessingTiming {
  commandMs: number;
  symmetricMs: number;
  publicKeyMs: number;
  hashMs: number;
  randomMs: number;
  writeMs: number;
  totalMs: number;
}

export const PROCESSING_PARTS = [
  'commandMs',
  'symmetricMs',
  'publicKeyMs',
  'hashMs',
  'randomMs',
  'writeMs',
] as const;

type Part = (typeof PROCESSING_PARTS)[number];

/**
 * The time `work` takes on `chip`. Objects are initialised once per command per kind (the applet
 * (re)initialises its MAC, cipher and signing objects with this command's key) but per call where the
 * key is new every time: a verification with a received public key, an ECDH with a fresh key pair.
 */
export function processingTiming(work: CardWork, chip: ChipProfile): ProcessingTiming {
  const t: Record<Part, number> = {
    commandMs: chip.commandMs,
    symmetricMs: 0,
    publicKeyMs: 0,
    hashMs: 0,
    randomMs: 0,
    writeMs: 0,
  };
  const initialised = new Set<'aes' | 'mac' | 'sign'>();
  const init = (kind: 'aes' | 'mac' | 'sign', ms: number) => {
    if (initialised.has(kind)) return 0;
    initialised.add(kind);
    return ms;
  };
  for (const use of work.crypto) {
    const [part, ms] = cryptoTime(use, chip, init);
    t[part] += ms;
  }
  for (const regions of work.commits) for (const bytes of regions) t.writeMs += writeTime(bytes, chip);
  return { ...t, totalMs: PROCESSING_PARTS.reduce((sum, p) => sum + t[p], 0) };
}

/** SHA-256 blocks of a message of `bytes` (with its padding: 0x80 and the 8-byte length). */
export function sha256Blocks(bytes: number): number {
  return Math.ceil((bytes + 9) / 64);
}

/** AES blocks of `bytes` (at least one). */
export function aesBlocks(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 16));
}

export function writeTime(bytes: number, chip: ChipProfile): number {
  return chip.write.smallMs + Math.max(0, bytes - chip.write.smallBytes) * chip.write.perByteMs;
}

function cryptoTime(
  use: CryptoUse,
  chip: ChipProfile,
  init: (kind: 'aes' | 'mac' | 'sign', ms: number) => number,
): [Part, number] {
  const sha = (bytes: number) => chip.sha256.callMs + chip.sha256.perBlockMs * sha256Blocks(bytes);
  // The ECDSA figures hash a one-block message; longer messages add SHA-256 blocks.
  const extraBlocks = (bytes: number) => Math.max(0, sha256Blocks(bytes) - 1) * chip.sha256.perBlockMs;
  const op: CryptoOperation = use.operation;
  switch (op) {
    case 'aes-cmac':
      return [
        'symmetricMs',
        init('mac', chip.mac.initMs) + chip.mac.callMs + chip.mac.perBlockMs * aesBlocks(use.bytes),
      ];
    case 'aes-gcm': {
      // No Java Card profile measures GCM: counter mode as one cipher pass over the plaintext (and the
      // tag's counter block), GHASH as one MAC pass over the associated data, ciphertext and lengths.
      const p = aesBlocks(use.bytes);
      const a = use.aadBytes > 0 ? aesBlocks(use.aadBytes) : 0;
      const ctr = chip.aes.callMs + chip.aes.perBlockMs * (p + 1);
      const ghash = chip.mac.callMs + chip.mac.perBlockMs * (a + p + 1);
      return ['symmetricMs', init('aes', chip.aes.initMs) + ctr + ghash];
    }
    case 'ecdsa-sign':
      return ['publicKeyMs', init('sign', chip.ecdsa.initMs) + chip.ecdsa.signMs + extraBlocks(use.bytes)];
    case 'ecdsa-verify':
      return [
        'publicKeyMs',
        chip.ecdsa.setPublicKeyMs + chip.ecdsa.initMs + chip.ecdsa.verifyMs + extraBlocks(use.bytes),
      ];
    case 'ecdh':
      return ['publicKeyMs', chip.ecdh.initMs + chip.ecdh.ms];
    case 'p256-keygen':
      return ['publicKeyMs', chip.keyGenerationMs];
    case 'p256-point-check':
      return ['publicKeyMs', chip.ecdsa.setPublicKeyMs]; // ECPublicKey.setW checks the point
    case 'p256-public-key':
      return ['publicKeyMs', 0]; // a card stores its own public key; the simulator recomputes it
    case 'hkdf-sha256': {
      // HMAC-SHA256 extract (key 32 bytes) and one expand block: four hashes, then the key is loaded.
      const blocks = 2 + 2 + sha256Blocks(64 + use.bytes + 1) + 2;
      return ['hashMs', 4 * chip.sha256.callMs + blocks * chip.sha256.perBlockMs + chip.aes.setKeyMs];
    }
    case 'sha256':
      return ['hashMs', sha(use.bytes)];
    case 'random':
      return ['randomMs', chip.randomMs];
  }
}
