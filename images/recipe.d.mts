/** Docker repository of the built images. */
export declare const IMAGE_REPO: 'pgcp/postgres';

/** One entry of images/manifest.json, keyed by Postgres major or a variant of one ("15-release"), resolved. */
export interface ManifestEntry {
  /** The Postgres major of the recipe. */
  major: string;
  /** Debian suite the image is bootstrapped from (bookworm, trixie, sid, ...). */
  suite: string;
  /** Logical replication driver shipped in the image. */
  driver: 'pglogical';
  /** Also use <suite>-updates and <suite>-security. */
  updates?: boolean;
  /** The suite's Release file may be past Valid-Until (sid on a frozen mirror). */
  allowExpiredRelease?: boolean;
  /** Whether postgresql-<major>-pgl-ddl-deploy is installed. */
  pglDdlDeploy: boolean;
  /** Debian packages installed on top of the common set. */
  extraPackages?: string[];
  /** Extensions the image carries: extension name (as CREATE EXTENSION takes it) → the Debian package holding it. */
  extensions?: Record<string, string>;
}

/** All Postgres majors in the manifest, ascending, as strings ("15", "17", ...). */
export declare function majors(): string[];

/** Every recipe key: majors and their variants, each major before its variants. */
export declare function recipes(): string[];

/** The manifest entry of one recipe (a variant's fields over its major's entry); throws for an unknown recipe. */
export declare function manifestEntry(recipe: string | number): ManifestEntry;

/** First 12 hex chars of sha256 over build.sh, the manifest entry and images/rootfs/. */
export declare function recipeHash(recipe: string | number): string;

/** `pgcp/postgres:<major>-<recipeHash(major)>`. */
export declare function imageTag(recipe: string | number): string;
