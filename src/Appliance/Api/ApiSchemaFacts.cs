using System.Text.Json.Nodes;
using Appliance.Acme;
using Appliance.Acme.Preflight;
using Appliance.Certificates.Formats;
using Appliance.Certificates.Store;
using Appliance.Network;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Appliance.Api;

/// <summary>What the handlers accept and answer beyond the C# types: lengths, formats, enums, required members.</summary>
internal sealed record MemberFacts(
    bool Required = false, bool NotNull = false, int? MinLength = null, int? MaxLength = null, IReadOnlyList<string>? Enum = null,
    string? Format = null, string? Pattern = null, int? Minimum = null, int? Maximum = null, int? MinItems = null, bool Nullable = false);

/// <summary>
/// The member facts of the JSON contracts, by contract and JSON name, written where the OpenAPI schemas are made
/// (a schema transformer over the schemas generated from the same source-generated contracts the handlers use).
/// Each fact is a rule a handler or the store enforces; the numbers come from the constants that enforce them.
/// </summary>
internal static class ApiSchemaFacts
{
    private static readonly MemberFacts Text = new(Required: true, NotNull: true, MinLength: 1);
    private static readonly MemberFacts Id = new(Required: true, NotNull: true, MinLength: 1, MaxLength: 256);
    private static readonly string[] KeyAlgorithms = ["RSA", "ECDSA"];
    /// <summary>A certificate may carry an Ed25519 key (reported, never served: KeyTypeServing); keys and requests never do.</summary>
    private static readonly string[] CertificateKeyAlgorithms = [.. KeyAlgorithms, "Ed25519"];

    public static readonly IReadOnlyDictionary<Type, IReadOnlyDictionary<string, MemberFacts>> Members = new Dictionary<Type, IReadOnlyDictionary<string, MemberFacts>>
    {
        // Request bodies.
        [typeof(SessionRequest)] = new Dictionary<string, MemberFacts>
        {
            ["username"] = Text with { MaxLength = 256 },
            ["password"] = Text with { MaxLength = 256 },
        },
        [typeof(PasswordRequest)] = new Dictionary<string, MemberFacts>
        {
            ["currentPassword"] = Text with { MaxLength = 256 },
            ["newPassword"] = Text with { MinLength = Accounts.AccountStore.MinPasswordLength, MaxLength = 256 },
        },
        [typeof(TokenRequest)] = new Dictionary<string, MemberFacts> { ["name"] = Text with { MaxLength = 64 } },
        [typeof(UserRequest)] = new Dictionary<string, MemberFacts>
        {
            ["username"] = Text with { MaxLength = 64, Pattern = "^[A-Za-z0-9._@-]+$" },
            ["password"] = Text with { MinLength = Accounts.AccountStore.MinPasswordLength, MaxLength = 256 },
        },
        [typeof(CreateRequestBody)] = new Dictionary<string, MemberFacts>
        {
            ["friendlyName"] = Text with { MaxLength = CertificateStore.MaxFriendlyNameLength },
            ["key"] = Text with { Pattern = $"^({string.Join("|", KeyFactory.KeyTypes)}|{KeyReference.ExistingPattern})$" },
            ["subjectAlternativeNames"] = new(Nullable: true),
        },
        [typeof(ExportBody)] = new Dictionary<string, MemberFacts>
        {
            ["ids"] = new(Required: true, NotNull: true, MinItems: 1),
            ["format"] = new(Enum: ["pem", "pkcs12", "pkcs7"], Nullable: true),
            ["passphrase"] = new(Nullable: true, MaxLength: 1024),
        },
        [typeof(DefaultBody)] = new Dictionary<string, MemberFacts> { ["id"] = new(Nullable: true, MaxLength: 256) },
        [typeof(AcmeServerBody)] = new Dictionary<string, MemberFacts>
        {
            ["type"] = new(Required: true, NotNull: true, Enum: AcmeServerTypes.All.ToArray()),
            ["directoryUrl"] = new(Nullable: true, Format: "uri"),
            ["website"] = new(Nullable: true, Format: "uri"),
            ["termsOfService"] = new(Nullable: true, Format: "uri"),
            ["email"] = new(Nullable: true, Format: "email"),
        },
        [typeof(AutomatedCertificateBody)] = new Dictionary<string, MemberFacts>
        {
            ["serverId"] = Id,
            ["hostname"] = Text with { MaxLength = 253 },
            ["keyType"] = new(Nullable: true, Enum: KeyFactory.KeyTypes.ToArray()),
        },
        [typeof(EmailSettingsBody)] = new Dictionary<string, MemberFacts>
        {
            ["security"] = new(Nullable: true, Enum: ["none", "starttls", "tls"]),
            ["port"] = new(Nullable: true, Minimum: 1, Maximum: 65535),
        },
        [typeof(AddressDto)] = new Dictionary<string, MemberFacts>
        {
            ["address"] = new(Required: true, NotNull: true, Format: "ip-address"),
            ["applianceAccess"] = new(Required: true),
            ["siteAccess"] = new(Required: true),
        },

        // Answers.
        [typeof(StatusDto)] = new Dictionary<string, MemberFacts> { ["keyProtection"] = new(Enum: ["tpm", "software"]) },
        [typeof(VaultDto)] = new Dictionary<string, MemberFacts> { ["state"] = new(Enum: ["open", "sealedByOtherTpm", "pcrMismatch", "unavailable"]) },
        [typeof(CertificateDto)] = new Dictionary<string, MemberFacts>
        {
            ["keyAlgorithm"] = new(Enum: CertificateKeyAlgorithms, Nullable: true),
            ["source"] = new(Enum: CertificateSources.Texts),
        },
        [typeof(KeyDto)] = new Dictionary<string, MemberFacts> { ["keyAlgorithm"] = new(Enum: KeyAlgorithms) },
        [typeof(CertificateRequestDto)] = new Dictionary<string, MemberFacts>
        {
            ["keyAlgorithm"] = new(Enum: KeyAlgorithms),
            ["status"] = new(Enum: ["pending", "issued"]),
        },
        [typeof(AuditEntryDto)] = new Dictionary<string, MemberFacts> { ["outcome"] = new(Enum: ["ok", "refused", "failed"]) },
        [typeof(AutomatedCertificateDto)] = new Dictionary<string, MemberFacts>
        {
            ["status"] = new(Enum: ["pending", "valid", "renewing", "error"]),
            ["keyType"] = new(Enum: KeyFactory.KeyTypes.ToArray()),
        },
        [typeof(AcmeServerDto)] = new Dictionary<string, MemberFacts> { ["type"] = new(Enum: AcmeServerTypes.All.ToArray()) },
        [typeof(PreflightFindingDto)] = new Dictionary<string, MemberFacts>
        {
            ["check"] = new(Enum: AcmePreflight.Checks.ToArray()),
            ["severity"] = new(Enum: ["warning", "refusal"]),
        },
        [typeof(EmailSettingsDto)] = new Dictionary<string, MemberFacts> { ["security"] = new(Enum: ["none", "starttls", "tls"]) },
    };

    /// <summary>
    /// Request bodies: only the members their facts call required are (a constructor parameter is otherwise listed
    /// as required, though the handler takes a missing member as null).
    /// </summary>
    private static readonly HashSet<Type> RequestBodies =
    [
        typeof(SessionRequest), typeof(PasswordRequest), typeof(TokenRequest), typeof(UserRequest), typeof(CreateRequestBody),
        typeof(ExportBody), typeof(DefaultBody), typeof(AcmeServerBody), typeof(AutomatedCertificateBody), typeof(EmailSettingsBody),
    ];

    /// <summary>Applies the facts of a contract to its object schema.</summary>
    public static Task Apply(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.JsonPropertyInfo is not null || !Members.TryGetValue(context.JsonTypeInfo.Type, out var members) || schema.Properties is null)
            return Task.CompletedTask;
        if (RequestBodies.Contains(context.JsonTypeInfo.Type))
            schema.Required = members.Where(m => m.Value.Required).Select(m => m.Key).ToHashSet();
        foreach (var (name, facts) in members)
        {
            if (!schema.Properties.TryGetValue(name, out var member))
                throw new InvalidOperationException($"The schema facts name '{name}', which {context.JsonTypeInfo.Type.Name} does not have.");
            if (facts.Required) (schema.Required ??= new HashSet<string>()).Add(name);
            if (member is not OpenApiSchema property) continue;
            if (facts.NotNull && property.Type is { } type) property.Type = type & ~JsonSchemaType.Null;
            if (facts.Nullable && property.Type is { } nullable) property.Type = nullable | JsonSchemaType.Null;
            if (facts.MinLength is { } min) property.MinLength = min;
            if (facts.MaxLength is { } max) property.MaxLength = max;
            if (facts.Format is { } format) property.Format = format;
            if (facts.Pattern is { } pattern) property.Pattern = pattern;
            if (facts.Minimum is { } minimum) property.Minimum = minimum.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (facts.Maximum is { } maximum) property.Maximum = maximum.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (facts.MinItems is { } minItems) property.MinItems = minItems;
            if (facts.Enum is { } values)
            {
                property.Enum = values.Select(v => (JsonNode)JsonValue.Create(v)).ToList();
                if (facts.Nullable) property.Enum.Add(null!);
            }
        }
        return Task.CompletedTask;
    }
}
