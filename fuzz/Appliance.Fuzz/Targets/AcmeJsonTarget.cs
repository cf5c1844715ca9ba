using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Appliance.Acme;
using Appliance.Acme.Protocol;

namespace Appliance.Fuzz.Targets;

/// <summary>
/// The ACME server's JSON documents as the client reads them (source-generated models): the input is read as every
/// document type, and what the client does with a problem document (describe it) runs too.
/// </summary>
internal sealed class AcmeJsonTarget : FuzzTarget
{
    public override string Name => "acme-json";

    public override void Run(byte[] input)
    {
        Read(input, AcmeJson.Default.AcmeDirectory);
        Read(input, AcmeJson.Default.AccountResource);
        Read(input, AcmeJson.Default.AcmeOrder);
        Read(input, AcmeJson.Default.AcmeAuthorization);
        Read(input, AcmeJson.Default.AcmeChallenge);
        Read(input, AcmeJson.Default.RenewalInfoResource);
        if (Read(input, AcmeJson.Default.AcmeProblem) is { } problem)
        {
            _ = problem.Describe();
            _ = problem.ShortType;
        }
    }

    // AcmeClient refuses a JsonException as a malformed answer; anything else would escape it.
    private static T? Read<T>(byte[] input, JsonTypeInfo<T> type)
    {
        try
        {
            return JsonSerializer.Deserialize(input, type);
        }
        catch (JsonException)
        {
            return default;
        }
    }

    public override bool IsExpected(Exception exception) => false;
}
