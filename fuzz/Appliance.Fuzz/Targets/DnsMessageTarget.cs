using Appliance.Acme.Caa;

namespace Appliance.Fuzz.Targets;

/// <summary>The DNS response parser of the CAA check, with the CAA records it finds and the policy decision on them.</summary>
internal sealed class DnsMessageTarget : FuzzTarget
{
    private static readonly string[] CaIdentities = ["ca.example"];

    public override string Name => "dns-message";

    public override void Run(byte[] input)
    {
        var response = DnsMessage.Parse(input);
        var records = new List<CaaRecord>();
        foreach (var record in response.Answers)
        {
            if (record.Type == DnsType.Caa)
            {
                records.Add(CaaRecord.Parse(record.Data));
            }
        }

        if (records.Count > 0)
        {
            CaaPolicy.Decide(response.Answers[0].Name, new CaaRecordSet(response.Answers[0].Name, records), CaIdentities);
        }
    }

    public override bool IsExpected(Exception exception) => exception is DnsFormatException;
}
