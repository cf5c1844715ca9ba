namespace Appliance.Certificates.Store;

/// <summary>
/// The "certificates" module's tables in the state database; steps are never edited once shipped.
/// <c>address_assignments.appliance_access</c> and <c>site_access</c> are the host's since the "network" module's first
/// step copied them into its own table (Appliance.Network.AddressSettings): the store neither reads nor writes them.
/// </summary>
internal static class CertificateSchema
{
    public const string Module = "certificates";

    public static readonly IReadOnlyList<string> Migrations =
    [
        """
        CREATE TABLE keys (
            id TEXT PRIMARY KEY,
            public_key_sha256 TEXT NOT NULL UNIQUE,
            algorithm TEXT NOT NULL,
            key_size INTEGER NOT NULL,
            sealed BLOB NOT NULL,
            created_at TEXT NOT NULL);
        CREATE TABLE certificates (
            id TEXT PRIMARY KEY,
            der BLOB NOT NULL,
            sha256 TEXT NOT NULL UNIQUE,
            public_key_sha256 TEXT NOT NULL,
            friendly_name TEXT NOT NULL,
            source TEXT NOT NULL,
            is_factory INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL);
        CREATE INDEX certificates_public_key ON certificates (public_key_sha256);
        CREATE TABLE certificate_requests (
            id TEXT PRIMARY KEY,
            friendly_name TEXT NOT NULL,
            country TEXT, state TEXT, locality TEXT, organization TEXT, organizational_unit TEXT, common_name TEXT,
            subject_alternative_names TEXT NOT NULL,
            key_id TEXT NOT NULL REFERENCES keys (id),
            der BLOB NOT NULL,
            created_at TEXT NOT NULL,
            certificate_id TEXT REFERENCES certificates (id) ON DELETE SET NULL);
        CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT);
        CREATE TABLE address_assignments (
            address TEXT PRIMARY KEY,
            certificate_id TEXT REFERENCES certificates (id),
            appliance_access INTEGER NOT NULL DEFAULT 1,
            site_access INTEGER NOT NULL DEFAULT 1);
        """,
        // What is read from a certificate's DER, kept at insert so start-up parses no X.509 (DerivedCertificateData;
        // version 0: not computed yet, filled on the next load), and every signature check made for chain building.
        """
        ALTER TABLE certificates ADD COLUMN derived TEXT;
        ALTER TABLE certificates ADD COLUMN derived_version INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE signature_checks (
            certificate_sha256 TEXT NOT NULL REFERENCES certificates (sha256) ON DELETE CASCADE,
            issuer_sha256 TEXT NOT NULL REFERENCES certificates (sha256) ON DELETE CASCADE,
            verified INTEGER NOT NULL,
            PRIMARY KEY (certificate_sha256, issuer_sha256));
        CREATE INDEX signature_checks_issuer ON signature_checks (issuer_sha256);
        """,
    ];
}
