using Appliance.Certificates.Store;
using Microsoft.AspNetCore.Html;

namespace Appliance.Ui;

// Page models of the /appliance slices. Public because the generated slice proxies are public.

/// <summary>A message shown once at the top of the next page (post-redirect-get), or with a re-rendered form.</summary>
public sealed record Notice(string Kind, string Text, IReadOnlyList<string> Details)
{
    public static Notice Ok(string text, IReadOnlyList<string>? details = null) => new("ok", text, details ?? []);
    public static Notice Error(string text) => new("error", text, []);
}

/// <summary>What the layout needs: title, menu position, the signed-in admin, and the anti-forgery field for its forms.</summary>
public sealed record LayoutModel(
    string Title, string Section, string? Page, string? User, string HostName, bool KeysNotTpmProtected,
    string Version, IHtmlContent TokenField, Notice? Notice);

public sealed record MessagePage(LayoutModel Layout, string Heading, string Text, string? LinkHref, string? LinkText);

public sealed record LoginPage(LayoutModel Layout, string Username, string ReturnUrl);

public sealed record PasswordPage(LayoutModel Layout, bool Forced);

public sealed record TokenRow(string Id, string Name, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt);

/// <summary>The confirmation step before an admin is removed.</summary>
public sealed record RemoveAdminPage(LayoutModel Layout, string Username, int Sessions, bool IsYou);

public sealed record AdminRow(string Username, bool MustChangePassword, DateTimeOffset CreatedAt, int Sessions, bool IsYou);

/// <summary>A secret shown once on the Users page: a new API token, or an admin's new one-time password.</summary>
public sealed record OneTimeSecret(string Name, string Value);

/// <summary>Users: the admins (add, remove, reset) and the API tokens. <paramref name="NewAdmin"/> keeps the add form's username when refused.</summary>
public sealed record UsersPage(LayoutModel Layout, string Username, IReadOnlyList<AdminRow> Admins, IReadOnlyList<TokenRow> Tokens,
    OneTimeSecret? NewToken, OneTimeSecret? ResetPassword, string NewAdmin);

/// <summary>The Email page's form; the password is never rendered back, only whether one is stored.</summary>
public sealed record EmailForm(bool Enabled, string Server, string Port, string Security, string Username, bool HasPassword, string Sender, string Recipients, string TrustedCertificate);

public sealed record EmailPage(LayoutModel Layout, EmailForm Form);

/// <summary>One page of the audit log, newest first; <paramref name="Older"/> is the "before" of the next page.</summary>
public sealed record AuditPage(LayoutModel Layout, IReadOnlyList<Appliance.Audit.AuditEntry> Entries, long? Older, bool IsFirstPage, long Total);

public sealed record AddressRow(string Interface, string Address, int PrefixLength, string Family, string Certificate, string CertificateRule);

public sealed record InterfaceRow(string Name, string? MacAddress, bool IsUp, IReadOnlyList<AddressRow> Addresses);

public sealed record ExpiryRow(string Id, string FriendlyName, string? CommonName, DateTimeOffset NotAfter, int DaysLeft, string Kind);

/// <summary>Status > Basics. <paramref name="VaultState"/> is the vault's state in words ("Open", "Sealed by another TPM", ...).</summary>
public sealed record StatusPage(
    LayoutModel Layout, string HostName, string Model, string SerialNumber, string Version, string Uptime,
    bool TpmProtected, string? TpmManufacturer, string? TpmFirmwareVersion, string KeyProtectionDetail, bool VaultOpen, string VaultState,
    IReadOnlyList<InterfaceRow> Interfaces,
    int CertificateCount, string? DefaultCertificate, IReadOnlyList<ExpiryRow> Expiries, ExpiryTimeline Timeline, StorageRow Storage);

/// <summary>The state partition on Status > Basics, in words; <paramref name="Warning"/> from 90% used on.</summary>
public sealed record StorageRow(string Used, string Free, string Total, string Percent, string? Warning);

/// <summary>One address on Networking > IP Configuration: its settings and what a client without SNI gets there now.</summary>
public sealed record AddressSettingRow(string? Interface, string Address, string? CertificateId, bool ApplianceAccess, bool SiteAccess,
    string ServedWithoutSni, string ServedRule);

public sealed record CertificateChoice(string Id, string Label);

/// <summary>"Which certificate answers?": the certificate the handshake's snapshot picks and the rule, in words.</summary>
public sealed record SelectionAnswer(string Address, string? ServerName, string CertificateId, string FriendlyName, string Subject,
    IReadOnlyList<string> SubjectAlternativeNames, DateTimeOffset NotAfter, string Rule, string Explanation);

public sealed record NetworkingPage(LayoutModel Layout, IReadOnlyList<AddressSettingRow> Addresses, IReadOnlyList<CertificateChoice> Certificates,
    string? CheckAddress, string CheckServerName, SelectionAnswer? Answer, string? CheckError);

public sealed record CertificateWarning(string Kind, string Text);

public sealed record CertificateRow(StoredCertificate Certificate, string? DefaultRefusal, IReadOnlyList<CertificateWarning> Warnings)
{
    public string KeyText => Certificates.KeyTypeServing.Name(Certificate.Facts.KeyAlgorithm) is { } name ? $"{name} {Certificate.Facts.KeySize}" : "unknown";
}

public sealed record CertificatesPage(LayoutModel Layout, IReadOnlyList<CertificateRow> Certificates, IReadOnlyList<StoredRequest> Requests, AcmePanel Acme);

/// <summary>A registered ACME server as listed on Security :: Automated Certificates.</summary>
public sealed record AcmeServerRow(Appliance.Acme.AcmeServer Server, string TypeLabel, int CertificateCount)
{
    public string Label => $"{TypeLabel}: {Server.DirectoryUrl}{(Server.Email is null ? "" : " (" + Server.Email + ")")}";
}

/// <summary>An automated certificate with its status as the API shows it (pending or renewing while an order runs).</summary>
public sealed record AutomatedRow(Appliance.Acme.AutomatedCertificate Certificate, string Status, string Server, bool Running)
{
    public string StatusLabel => Status switch
    {
        "pending" => "Pending",
        "valid" => "Valid",
        "renewing" => "Renewing",
        "error" => "Error",
        _ => Status,
    };

    public string StatusKind => Status switch { "valid" => "ok", "error" => "bad", _ => "info" };
}

/// <summary>The Let's Encrypt™ Certificates request form (kept when a request is refused).</summary>
public sealed record AcmeRequestForm(string Hostname, string KeyType, string ServerId, string Profile = "", string PreferredChain = "");

/// <summary>Security :: Automated Certificates and Security :: Let's Encrypt™ Certificates.</summary>
public sealed record AcmePanel(IReadOnlyList<AcmeServerRow> Servers, IReadOnlyList<AutomatedRow> Certificates, AcmeRequestForm Form, IReadOnlyList<KeyOption> KeyTypes);

/// <summary>Automated Certificates :: Register New ACME Server: the type chosen (first step) and its fields.</summary>
public sealed record AcmeServerForm(string Type, string DirectoryUrl, string Website, string TermsOfService, string Email, string EabKeyId);

public sealed record AcmeServerPage(LayoutModel Layout, AcmeServerForm Form, IReadOnlyList<KeyOption> Types)
{
    public bool WellKnown => Form.Type is Appliance.Acme.AcmeServerTypes.LetsEncrypt or Appliance.Acme.AcmeServerTypes.Buypass;
    public string TypeLabel => Types.FirstOrDefault(t => t.Value == Form.Type)?.Label ?? Form.Type;
}

public sealed record ImportPage(LayoutModel Layout);

public sealed record KeyOption(string Value, string Label);

public sealed record NewCertificateForm(
    string FriendlyName, string Key, string Country, string State, string Locality, string Organization,
    string OrganizationalUnit, string CommonName, IReadOnlyList<string> SubjectAlternativeNames, string NewName);

public sealed record NewCertificatePage(LayoutModel Layout, NewCertificateForm Form, IReadOnlyList<KeyOption> Keys);

/// <summary>The export page: one certificate (what to include), or several (individually or one PKCS#7 file).</summary>
public sealed record ExportPage(LayoutModel Layout, IReadOnlyList<CertificateRow> Selected, bool Individually, UnencryptedExport? Confirm = null);

/// <summary>The separate confirmation step of a private-key export without a passphrase: what was chosen, kept for the confirming form.</summary>
public sealed record UnencryptedExport(CertificateRow Row, bool Certificate, bool Chain, bool Individually);

public sealed record DeletePage(LayoutModel Layout, IReadOnlyList<CertificateRow> Selected);

public sealed record RequestPage(LayoutModel Layout, StoredRequest Request);

public sealed record DeleteRequestsPage(LayoutModel Layout, IReadOnlyList<StoredRequest> Selected);
