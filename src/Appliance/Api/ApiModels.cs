using System.Text.Json;
using System.Text.Json.Serialization;
using Appliance.Certificates.Formats;
using Appliance.Certificates.Store;

namespace Appliance.Api;

internal sealed record SessionRequest(string? Username, string? Password);
internal sealed record SessionResponse(string Username, bool MustChangePassword, DateTimeOffset ExpiresAt);
internal sealed record PasswordRequest(string? CurrentPassword, string? NewPassword);
internal sealed record TokenRequest(string? Name);
internal sealed record TokenDto(string Id, string Name, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, string? Token);

internal sealed record SubjectDto(string? Country, string? State, string? Locality, string? Organization, string? OrganizationalUnit, string? CommonName)
{
    public static SubjectDto From(SubjectName s) => new(s.Country, s.State, s.Locality, s.Organization, s.OrganizationalUnit, s.CommonName);
    public SubjectName ToSubject() => new(Country, State, Locality, Organization, OrganizationalUnit, CommonName);
}

internal sealed record CertificateDto(
    string Id, string FriendlyName, string Subject, string Issuer, string? CommonName,
    IReadOnlyList<string> SubjectAlternativeNames, DateTimeOffset NotBefore, DateTimeOffset NotAfter,
    string SerialNumber, string Sha256Fingerprint, string? KeyAlgorithm, int KeySize, bool HasPrivateKey,
    bool IsCertificateAuthority, bool IsSelfSigned, bool IsDefault, bool IsFactory,
    IReadOnlyList<string> Chain, bool ChainComplete, string? ChainWarning, IReadOnlyList<string> BoundAddresses,
    string Source, string? DefaultRefusal, string? OcspStapling = null)
{
    public static CertificateDto From(StoredCertificate c) => new(
        c.Id, c.FriendlyName, c.Facts.Subject, c.Facts.Issuer, c.Facts.CommonName, c.Facts.SubjectAlternativeNames,
        c.Facts.NotBefore, c.Facts.NotAfter, c.Facts.SerialNumber, c.Facts.Sha256Fingerprint, AlgorithmName(c.Facts.KeyAlgorithm),
        c.Facts.KeySize, c.HasPrivateKey, c.Facts.IsCertificateAuthority, c.Facts.IsSelfSigned, c.IsDefault, c.IsFactory,
        c.Chain, c.ChainComplete, c.ChainWarning, c.BoundAddresses, c.Source.ToText(), CertificateStore.DefaultRefusal(c));

    /// <summary>With the OCSP stapling state: null when the certificate names no responder (or cannot be stapled).</summary>
    public static CertificateDto From(StoredCertificate c, Tls.Ocsp.OcspStapling stapling) => From(c) with { OcspStapling = stapling.Describe(c.Id) };

    public static string? AlgorithmName(KeyAlgorithm? algorithm) => Certificates.KeyTypeServing.Name(algorithm);
}

internal sealed record KeyDto(string Id, string KeyAlgorithm, int KeySize, string? CertificateId)
{
    public static KeyDto From(StoredKey k) => new(k.Id, CertificateDto.AlgorithmName(k.Algorithm)!, k.KeySize, k.CertificateId);
}

internal sealed record ImportResultDto(IReadOnlyList<CertificateDto> Certificates, IReadOnlyList<KeyDto> Keys, IReadOnlyList<string> Warnings);

internal sealed record CreateRequestBody(string? FriendlyName, string? Key, SubjectDto? Subject, IReadOnlyList<string>? SubjectAlternativeNames, bool SelfSigned);

internal sealed record CertificateRequestDto(
    string Id, string FriendlyName, SubjectDto Subject, IReadOnlyList<string> SubjectAlternativeNames,
    string KeyAlgorithm, int KeySize, DateTimeOffset CreatedAt, string Status, string? CertificateId, string RequestData)
{
    public static CertificateRequestDto From(StoredRequest r) => new(
        r.Id, r.FriendlyName, SubjectDto.From(r.Subject), r.SubjectAlternativeNames, CertificateDto.AlgorithmName(r.KeyAlgorithm)!,
        r.KeySize, r.CreatedAt, r.IsIssued ? "issued" : "pending", r.CertificateId, r.RequestData);
}

/// <summary>An export; <c>unencryptedPrivateKey: true</c> (with no passphrase, PEM only) is the explicit confirmation that the key leaves in clear.</summary>
internal sealed record ExportBody(IReadOnlyList<string>? Ids, bool Certificate, bool PrivateKey, bool Chain, string? Passphrase, string? Format, bool UnencryptedPrivateKey = false);

internal sealed record DefaultBody(string? Id);

internal sealed record TpmDto(string Manufacturer, string FirmwareVersion);
internal sealed record VaultDto(string State, string Detail);
internal sealed record InterfaceDto(string Name, string? MacAddress, bool IsUp, IReadOnlyList<string> Addresses);
/// <summary>The state partition (statvfs of the state directory); <c>warning</c> from 90% used on, null below.</summary>
internal sealed record StatePartitionDto(long TotalBytes, long FreeBytes, long UsedBytes, double UsedPercent, string? Warning);
internal sealed record StatusDto(
    string Hostname, string Model, string SerialNumber, string Version, long UptimeSeconds, string KeyProtection,
    TpmDto? Tpm, VaultDto Vault, IReadOnlyList<InterfaceDto> Interfaces, StatePartitionDto StatePartition);

internal sealed record UserRequest(string? Username, string? Password);
internal sealed record UserDto(string Username, bool MustChangePassword, DateTimeOffset CreatedAt, int Sessions)
{
    public static UserDto From(Accounts.AdminAccount a) => new(a.Username, a.MustChangePassword, a.CreatedAt, a.Sessions);
}
internal sealed record PasswordResetDto(string Username, string OneTimePassword, bool MustChangePassword);

/// <summary>
/// One audit log entry: <c>username</c> null when nobody was signed in; <c>outcome</c> "ok"|"refused"|"failed". An
/// <c>anonymous</c> entry counts <c>count</c> refused requests without a signed-in admin from <c>address</c> in one minute
/// (<c>at</c> to <c>lastAt</c>), described by the first; <c>summary</c> says so in words.
/// </summary>
internal sealed record AuditEntryDto(long Id, DateTimeOffset At, string? Username, string Address, string Method, string Path, int Status,
    string Outcome, string Action, string? Detail, bool Anonymous, long Count, DateTimeOffset? LastAt, string? Summary)
{
    public static AuditEntryDto From(Audit.AuditEntry e) => new(e.Id, e.At, e.Username, e.Address, e.Method, e.Path, e.Status, e.Outcome, e.Action, e.Detail,
        e.Anonymous, e.Count, e.LastAt, e.Summary);
}
internal sealed record AuditPageDto(IReadOnlyList<AuditEntryDto> Entries, long? Next);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = false, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(UserRequest))]
[JsonSerializable(typeof(UserDto))]
[JsonSerializable(typeof(List<UserDto>))]
[JsonSerializable(typeof(PasswordResetDto))]
[JsonSerializable(typeof(AuditPageDto))]
[JsonSerializable(typeof(SessionRequest))]
[JsonSerializable(typeof(SessionResponse))]
[JsonSerializable(typeof(PasswordRequest))]
[JsonSerializable(typeof(TokenRequest))]
[JsonSerializable(typeof(TokenDto))]
[JsonSerializable(typeof(List<TokenDto>))]
[JsonSerializable(typeof(CertificateDto))]
[JsonSerializable(typeof(List<CertificateDto>))]
[JsonSerializable(typeof(ImportResultDto))]
[JsonSerializable(typeof(CreateRequestBody))]
[JsonSerializable(typeof(CertificateRequestDto))]
[JsonSerializable(typeof(List<CertificateRequestDto>))]
[JsonSerializable(typeof(ExportBody))]
[JsonSerializable(typeof(DefaultBody))]
[JsonSerializable(typeof(StatusDto))]
internal sealed partial class ApiJson : JsonSerializerContext;
