using Appliance.Accounts;
using Appliance.Acme;
using Appliance.Certificates.Formats;
using Appliance.Certificates.Store;
using Appliance.Platform.Email;

// The reason switches below have no default arm on purpose (CS8509 names a missing reason); a value outside an
// enum's names is never constructed, so the warning for unnamed values (CS8524) is not wanted here.
#pragma warning disable CS8524

namespace Appliance.Edge;

/// <summary>
/// The one mapping of refusals to HTTP: every domain exception carries a reason, each reason has its status here,
/// and the API's problem documents and the pages' notices both come from <see cref="Of"/>. The reason switches have
/// no default arm, so a new reason fails the build's exhaustiveness warning rather than answering a guess.
/// </summary>
internal static class RefusalMap
{
    /// <summary>The refusal for an exception; null for a cancelled request (the client left: nothing to answer).</summary>
    public static Refusal? Of(Exception e, HttpContext? context = null) => e switch
    {
        RequestException r => new(StatusOf(r.Reason), r.Message),
        AccountException a => new(StatusOf(a.Reason), a.Message, a.RetryAfter),
        CertificateImportException i => new(400, i.Message),
        CertificateRequestException r => new(400, r.Message),
        CertificateExportException x => new(400, x.Message),
        CertificateStoreException s => new(StatusOf(s.Reason), s.Message),
        AcmeSettingsException s => new(StatusOf(s.Reason), s.Message),
        AcmeException a => new(StatusOf(a.Reason), a.Message, a.Reason == AcmeFailure.RateLimited ? a.RetryAfter : null),
        EmailException m => new(StatusOf(m.Reason), m.Message),
        BadHttpRequestException { StatusCode: 413 } when context is not null && UploadReader.IsUpload(context) =>
            new(413, UploadLimits.TooLarge),
        BadHttpRequestException { StatusCode: 413 } =>
            new(413, RequestLimits.TooLarge),
        BadHttpRequestException b when b.StatusCode < 500 =>
            new(b.StatusCode, $"{b.Message} Check the request against the OpenAPI document at {EdgePaths.OpenApiDocument}."),
        OperationCanceledException => null,
        _ => new(500, "The appliance failed to complete the request; the service log has the details. Try again, and contact support if it persists."),
    };

    public static int StatusOf(RequestFailure reason) => reason switch
    {
        RequestFailure.Invalid => 400,
        RequestFailure.Conflict => 409,
        RequestFailure.TooLarge => 413,
        RequestFailure.UnsupportedMediaType => 415,
    };

    public static int StatusOf(AccountFailure reason) => reason switch
    {
        AccountFailure.Invalid => 400,
        AccountFailure.WrongCredentials => 401,
        AccountFailure.NotFound => 404,
        AccountFailure.Conflict => 409,
        AccountFailure.Throttled => 429,
    };

    public static int StatusOf(StoreFailure reason) => reason switch
    {
        StoreFailure.Invalid => 400,
        StoreFailure.NotFound => 404,
        StoreFailure.InUse or StoreFailure.Conflict => 409,
        // The key vault is not open (TPM or key file missing): the appliance cannot serve this now.
        StoreFailure.KeyUnavailable => 503,
    };

    public static int StatusOf(AcmeSettingsFailure reason) => reason switch
    {
        AcmeSettingsFailure.Invalid => 400,
        AcmeSettingsFailure.NotFound => 404,
        AcmeSettingsFailure.Conflict or AcmeSettingsFailure.InUse => 409,
    };

    /// <summary>What the CA refused is the admin's to fix (400); the CA failing or unreachable is a bad gateway (502).</summary>
    public static int StatusOf(AcmeFailure reason) => reason switch
    {
        AcmeFailure.Refused or AcmeFailure.NotPossible or AcmeFailure.ValidationFailed or AcmeFailure.OrderInvalid => 400,
        AcmeFailure.RateLimited => 429,
        AcmeFailure.Unreachable or AcmeFailure.MalformedResponse or AcmeFailure.TimedOut => 502,
    };

    /// <summary>Settings that cannot be used are the admin's to fix (400); the SMTP server failing is a bad gateway (502).</summary>
    public static int StatusOf(EmailFailure reason) => reason switch
    {
        EmailFailure.Invalid => 400,
        EmailFailure.Disabled or EmailFailure.Unreachable or EmailFailure.Tls or EmailFailure.Authentication or EmailFailure.Refused => 502,
    };
}
