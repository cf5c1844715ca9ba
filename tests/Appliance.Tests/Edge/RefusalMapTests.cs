using Appliance.Accounts;
using Appliance.Acme;
using Appliance.Certificates.Formats;
using Appliance.Certificates.Store;
using Appliance.Edge;
using Appliance.Platform.Email;
using Microsoft.AspNetCore.Http;

namespace Appliance.Tests.Edge;

/// <summary>The one mapping of refusal reasons to HTTP (src/Appliance/Edge/RefusalMap.cs): every reason of every enum, and the exceptions that carry them.</summary>
public sealed class RefusalMapTests
{
    private static readonly (RequestFailure Reason, int Status)[] RequestTable =
    [
        (RequestFailure.Invalid, 400),
        (RequestFailure.Conflict, 409),
        (RequestFailure.TooLarge, 413),
        (RequestFailure.UnsupportedMediaType, 415),
    ];

    public static TheoryData<string, int> RequestStatuses => Data(RequestTable);

    private static readonly (AccountFailure Reason, int Status)[] AccountTable =
    [
        (AccountFailure.Invalid, 400),
        (AccountFailure.WrongCredentials, 401),
        (AccountFailure.NotFound, 404),
        (AccountFailure.Conflict, 409),
        (AccountFailure.Throttled, 429),
    ];

    public static TheoryData<string, int> AccountStatuses => Data(AccountTable);

    private static readonly (StoreFailure Reason, int Status)[] StoreTable =
    [
        (StoreFailure.Invalid, 400),
        (StoreFailure.NotFound, 404),
        (StoreFailure.InUse, 409),
        (StoreFailure.Conflict, 409),
        (StoreFailure.KeyUnavailable, 503),
    ];

    public static TheoryData<string, int> StoreStatuses => Data(StoreTable);

    private static readonly (AcmeSettingsFailure Reason, int Status)[] AcmeSettingsTable =
    [
        (AcmeSettingsFailure.Invalid, 400),
        (AcmeSettingsFailure.NotFound, 404),
        (AcmeSettingsFailure.Conflict, 409),
        (AcmeSettingsFailure.InUse, 409),
    ];

    public static TheoryData<string, int> AcmeSettingsStatuses => Data(AcmeSettingsTable);

    private static readonly (AcmeFailure Reason, int Status)[] AcmeTable =
    [
        (AcmeFailure.Refused, 400),
        (AcmeFailure.NotPossible, 400),
        (AcmeFailure.ValidationFailed, 400),
        (AcmeFailure.OrderInvalid, 400),
        (AcmeFailure.RateLimited, 429),
        (AcmeFailure.Unreachable, 502),
        (AcmeFailure.MalformedResponse, 502),
        (AcmeFailure.TimedOut, 502),
    ];

    public static TheoryData<string, int> AcmeStatuses => Data(AcmeTable);

    private static readonly (EmailFailure Reason, int Status)[] EmailTable =
    [
        (EmailFailure.Invalid, 400),
        (EmailFailure.Disabled, 502),
        (EmailFailure.Unreachable, 502),
        (EmailFailure.Tls, 502),
        (EmailFailure.Authentication, 502),
        (EmailFailure.Refused, 502),
    ];

    public static TheoryData<string, int> EmailStatuses => Data(EmailTable);

    [Theory]
    [MemberData(nameof(RequestStatuses))]
    public void ARequestRefusalAnswersItsReasonsStatusWithATitle(string reason, int status) =>
        AssertRefusal(new RequestException(Enum.Parse<RequestFailure>(reason), "words"), status);

    [Theory]
    [MemberData(nameof(AccountStatuses))]
    public void AnAccountRefusalAnswersItsReasonsStatusWithATitle(string reason, int status) =>
        AssertRefusal(new AccountException(Enum.Parse<AccountFailure>(reason), "words"), status);

    [Theory]
    [MemberData(nameof(StoreStatuses))]
    public void AStoreRefusalAnswersItsReasonsStatusWithATitle(string reason, int status) =>
        AssertRefusal(new CertificateStoreException(Enum.Parse<StoreFailure>(reason), "words"), status);

    [Theory]
    [MemberData(nameof(AcmeSettingsStatuses))]
    public void AnAcmeSettingsRefusalAnswersItsReasonsStatusWithATitle(string reason, int status) =>
        AssertRefusal(new AcmeSettingsException(Enum.Parse<AcmeSettingsFailure>(reason), "words"), status);

    [Theory]
    [MemberData(nameof(AcmeStatuses))]
    public void AnAcmeFailureAnswersItsReasonsStatusWithATitle(string reason, int status) =>
        AssertRefusal(new AcmeException(Enum.Parse<AcmeFailure>(reason), "words"), status);

    [Theory]
    [MemberData(nameof(EmailStatuses))]
    public void AnEmailFailureAnswersItsReasonsStatusWithATitle(string reason, int status) =>
        AssertRefusal(new EmailException(Enum.Parse<EmailFailure>(reason), "words"), status);

    [Fact]
    public void TheTablesAboveNameEveryReasonOfEveryEnum()
    {
        AssertCovers(RequestTable);
        AssertCovers(AccountTable);
        AssertCovers(StoreTable);
        AssertCovers(AcmeSettingsTable);
        AssertCovers(AcmeTable);
        AssertCovers(EmailTable);
    }

    [Fact]
    public void AThrottledLoginCarriesRetryAfterInWholeSecondsRoundedUp()
    {
        var refusal = RefusalMap.Of(new AccountException(AccountFailure.Throttled, "Too many failed logins; try again in 13 seconds.")
        {
            RetryAfter = TimeSpan.FromSeconds(12.2),
        })!;
        Assert.Equal(429, refusal.Status);
        Assert.Equal("Too Many Requests", refusal.Title);
        Assert.Equal("13", refusal.RetryAfterHeader);
        Assert.Equal("Too many failed logins; try again in 13 seconds.", refusal.Detail);
    }

    [Fact]
    public void ARetryAfterBelowOneSecondIsSentAsOneSecond() =>
        Assert.Equal("1", new Refusal(429, "wait", TimeSpan.FromMilliseconds(10)).RetryAfterHeader);

    [Fact]
    public void AnAcmeServersRateLimitCarriesItsRetryAfterAndOtherAcmeFailuresNone()
    {
        Assert.Equal("60", RefusalMap.Of(new AcmeException(AcmeFailure.RateLimited, "slow down", retryAfter: TimeSpan.FromMinutes(1)))!.RetryAfterHeader);
        Assert.Null(RefusalMap.Of(new AcmeException(AcmeFailure.Unreachable, "down", retryAfter: TimeSpan.FromMinutes(1)))!.RetryAfterHeader);
    }

    [Fact]
    public void ImportRequestAndExportRefusalsAnswer400WithTheirWords()
    {
        Assert.Equal(new Refusal(400, "cert.pem is empty."),
            RefusalMap.Of(new CertificateImportException(default, "cert.pem", "cert.pem is empty.")));
        Assert.Equal(new Refusal(400, "Give a subject."), RefusalMap.Of(new CertificateRequestException("Give a subject.")));
        Assert.Equal(new Refusal(400, "The passphrase is short."), RefusalMap.Of(new CertificateExportException("The passphrase is short.")));
    }

    [Fact]
    public void AnUnexpectedExceptionIs500WithoutItsOwnWordsAndIsNotShownInAForm()
    {
        var refusal = RefusalMap.Of(new InvalidOperationException("secret internals"))!;
        Assert.Equal(500, refusal.Status);
        Assert.DoesNotContain("secret internals", refusal.Detail);
        Assert.Equal("The appliance failed to complete the request; the service log has the details. Try again, and contact support if it persists.", refusal.Detail);
        Assert.False(refusal.ShownInForm);
    }

    [Fact]
    public void ACancelledRequestHasNoRefusal() => Assert.Null(RefusalMap.Of(new OperationCanceledException()));

    [Theory]
    [InlineData(400, true)]
    [InlineData(429, true)]
    [InlineData(502, true)]
    [InlineData(500, false)]
    [InlineData(503, false)]
    [InlineData(507, false)]
    public void APageShowsRefusalsAndUpstreamFailuresInItsFormButNotTheAppliancesOwnFailures(int status, bool shown) =>
        Assert.Equal(shown, new Refusal(status, "words").ShownInForm);

    [Fact]
    public void ABodyOverKestrelsLimitNamesTheUploadLimitOnAnUploadRouteAndTheJsonLimitElsewhere()
    {
        var tooLarge = new BadHttpRequestException("Request body too large.", 413);
        Assert.Equal("The upload is larger than the 10 MB accepted; import fewer or smaller files at a time.",
            RefusalMap.Of(tooLarge, Post(EdgePaths.PageImport))!.Detail);
        Assert.Equal("The upload is larger than the 10 MB accepted; import fewer or smaller files at a time.",
            RefusalMap.Of(tooLarge, Post(EdgePaths.ApiImport))!.Detail);
        Assert.Equal("The request body is larger than the 64 KiB accepted here; send a smaller JSON body.",
            RefusalMap.Of(tooLarge, Post(EdgePaths.ApiPrefix + "/users"))!.Detail);
    }

    [Fact]
    public void AnotherBadRequestFromKestrelKeepsItsStatusAndPointsToTheOpenApiDocument()
    {
        var refusal = RefusalMap.Of(new BadHttpRequestException("Invalid request line.", 400))!;
        Assert.Equal(400, refusal.Status);
        Assert.Equal("Invalid request line. Check the request against the OpenAPI document at /appliance/api/openapi.json.", refusal.Detail);
    }

    private static void AssertRefusal(Exception e, int status)
    {
        var refusal = RefusalMap.Of(e)!;
        Assert.Equal(status, refusal.Status);
        Assert.Equal("words", refusal.Detail);
        Assert.NotEqual("Error", refusal.Title);
    }

    private static void AssertCovers<TReason>((TReason Reason, int Status)[] table) where TReason : struct, Enum =>
        Assert.Equal(Enum.GetValues<TReason>().Order(), table.Select(row => row.Reason).Order());

    /// <summary>Rows by reason name: the reason enums are internal to the appliance, a public theory takes their names.</summary>
    private static TheoryData<string, int> Data<TReason>((TReason Reason, int Status)[] table) where TReason : struct, Enum
    {
        var data = new TheoryData<string, int>();
        foreach (var (reason, status) in table) data.Add(reason.ToString(), status);
        return data;
    }

    private static DefaultHttpContext Post(string path)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Path = path;
        return context;
    }
}
