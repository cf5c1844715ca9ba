using System.Text;

namespace Appliance.Tpm.Marshalling;

internal sealed record TpmProperty(TpmPt Property, uint Value);

internal sealed record GetCapabilityResult(bool MoreData, TpmProperty[] Properties);

internal sealed record CreatePrimaryResult(uint Handle, TpmtPublic Public, byte[] Name);

/// <summary>Create's output: TPM2B_PRIVATE and TPM2B_PUBLIC exactly as the TPM returned them, size prefixes included
/// (the form tpm2-tools reads with <c>tpm2_load -r/-u</c>).</summary>
internal sealed record CreateResult(byte[] Private, byte[] Public);

internal sealed record LoadResult(uint Handle, byte[] Name);

internal sealed record StartAuthSessionResult(uint Handle, byte[] NonceTpm);

internal sealed record PcrReadResult(uint UpdateCounter, TpmsPcrSelection[] Selections, byte[][] Digests);

/// <summary>
/// Each command the vault needs as a pure pair: BuildXxx makes the command bytes, ParseXxxResponse
/// reads the response bytes (Part 3, the command's "Command" and "Response" tables).
/// A command with an authorized handle takes the <see cref="ITpmAuthorization"/> for it in both calls.
/// </summary>
internal static class Tpm2Commands
{
    public static byte[] BuildStartup(TpmSu startupType)
    {
        Span<byte> parameters = stackalloc byte[2];
        var writer = new Tpm2Writer(parameters);
        writer.WriteUInt16((ushort)startupType);
        return Tpm2Frame.Build(TpmCc.Startup, [], [], writer.Written, null);
    }

    public static void ParseStartupResponse(ReadOnlySpan<byte> response) => ExpectEmpty(TpmCc.Startup, response);

    public static byte[] BuildGetCapability(TpmCap capability, uint property, uint propertyCount)
    {
        Span<byte> parameters = stackalloc byte[12];
        var writer = new Tpm2Writer(parameters);
        writer.WriteUInt32((uint)capability);
        writer.WriteUInt32(property);
        writer.WriteUInt32(propertyCount);
        return Tpm2Frame.Build(TpmCc.GetCapability, [], [], writer.Written, null);
    }

    /// <summary>Reads a TPM_CAP_TPM_PROPERTIES answer (TPMS_CAPABILITY_DATA holding a TPML_TAGGED_TPM_PROPERTY).</summary>
    public static GetCapabilityResult ParseGetCapabilityResponse(ReadOnlySpan<byte> response)
    {
        var reader = Parameters(TpmCc.GetCapability, response, 0, null, out _);
        var moreData = reader.ReadByte() != 0;
        var capability = (TpmCap)reader.ReadUInt32();
        if (capability != TpmCap.TpmProperties)
        {
            throw new TpmFormatException($"TPM2_GetCapability answered capability 0x{(uint)capability:X} instead of TPM_CAP_TPM_PROPERTIES.");
        }

        var count = reader.ReadUInt32();
        if (count > 256)
        {
            throw new TpmFormatException($"TPM2_GetCapability returned {count} properties; at most 256 were asked for.");
        }

        var properties = new TpmProperty[count];
        for (var i = 0; i < count; i++)
        {
            properties[i] = new TpmProperty((TpmPt)reader.ReadUInt32(), reader.ReadUInt32());
        }

        reader.ExpectEnd("TPM2_GetCapability response");
        return new GetCapabilityResult(moreData, properties);
    }

    /// <summary>TPM_PT_MANUFACTURER is four ASCII characters packed in a UINT32 ("IBM\0", "IFX\0", "STM ").</summary>
    public static string DecodeManufacturer(uint value)
    {
        Span<byte> bytes = [(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value];
        return Encoding.ASCII.GetString(bytes).TrimEnd('\0', ' ');
    }

    /// <summary>The firmware version as vendors print it: the two 16-bit halves of FIRMWARE_VERSION_1, then of _2.</summary>
    public static string DecodeFirmwareVersion(uint version1, uint version2) =>
        $"{version1 >> 16}.{version1 & 0xFFFF}.{version2 >> 16}.{version2 & 0xFFFF}";

    public static byte[] BuildGetRandom(ushort bytesRequested)
    {
        Span<byte> parameters = stackalloc byte[2];
        var writer = new Tpm2Writer(parameters);
        writer.WriteUInt16(bytesRequested);
        return Tpm2Frame.Build(TpmCc.GetRandom, [], [], writer.Written, null);
    }

    public static byte[] ParseGetRandomResponse(ReadOnlySpan<byte> response)
    {
        var reader = Parameters(TpmCc.GetRandom, response, 0, null, out _);
        var bytes = reader.ReadSized().ToArray();
        reader.ExpectEnd("TPM2_GetRandom response");
        return bytes;
    }

    public static byte[] BuildCreatePrimary(uint hierarchy, TpmtPublic template, ITpmAuthorization hierarchyAuthorization)
    {
        Span<byte> parameters = stackalloc byte[1024];
        var writer = new Tpm2Writer(parameters);
        WriteSensitiveCreate(ref writer, [], []);
        var publicStart = writer.BeginSized16();
        template.Marshal(ref writer);
        writer.EndSized16(publicStart);
        writer.WriteSized([]); // outsideInfo
        TpmsPcrSelection.MarshalList(ref writer, []); // creationPCR
        return Tpm2Frame.Build(TpmCc.CreatePrimary, [hierarchy], Tpm2Frame.HandleName(hierarchy), writer.Written, hierarchyAuthorization);
    }

    public static CreatePrimaryResult ParseCreatePrimaryResponse(ReadOnlySpan<byte> response, ITpmAuthorization hierarchyAuthorization)
    {
        var reader = Parameters(TpmCc.CreatePrimary, response, 1, hierarchyAuthorization, out var handles);
        var outPublic = TpmtPublic.FromTpm2B(reader.ReadSizedWithPrefix());
        SkipCreationOutputs(ref reader);
        var name = reader.ReadSized().ToArray();
        reader.ExpectEnd("TPM2_CreatePrimary response");
        return new CreatePrimaryResult(handles[0], outPublic, name);
    }

    /// <summary>Create with TPM2B_SENSITIVE_CREATE first, so a session with the decrypt attribute hides <paramref name="data"/> on the bus.</summary>
    public static byte[] BuildCreate(uint parentHandle, ReadOnlySpan<byte> parentName, TpmtPublic template, ReadOnlySpan<byte> userAuth, ReadOnlySpan<byte> data, ITpmAuthorization parentAuthorization)
    {
        Span<byte> parameters = stackalloc byte[1024];
        var writer = new Tpm2Writer(parameters);
        WriteSensitiveCreate(ref writer, userAuth, data);
        var publicStart = writer.BeginSized16();
        template.Marshal(ref writer);
        writer.EndSized16(publicStart);
        writer.WriteSized([]);
        TpmsPcrSelection.MarshalList(ref writer, []);
        var command = Tpm2Frame.Build(TpmCc.Create, [parentHandle], parentName, writer.Written, parentAuthorization);
        parameters.Clear();
        return command;
    }

    public static CreateResult ParseCreateResponse(ReadOnlySpan<byte> response, ITpmAuthorization parentAuthorization)
    {
        var reader = Parameters(TpmCc.Create, response, 0, parentAuthorization, out _);
        var outPrivate = reader.ReadSizedWithPrefix().ToArray();
        var outPublic = reader.ReadSizedWithPrefix().ToArray();
        SkipCreationOutputs(ref reader);
        reader.ExpectEnd("TPM2_Create response");
        return new CreateResult(outPrivate, outPublic);
    }

    /// <param name="privateTpm2B">TPM2B_PRIVATE with its size prefix.</param>
    /// <param name="publicTpm2B">TPM2B_PUBLIC with its size prefix.</param>
    public static byte[] BuildLoad(uint parentHandle, ReadOnlySpan<byte> parentName, ReadOnlySpan<byte> privateTpm2B, ReadOnlySpan<byte> publicTpm2B, ITpmAuthorization parentAuthorization)
    {
        Span<byte> parameters = stackalloc byte[privateTpm2B.Length + publicTpm2B.Length];
        privateTpm2B.CopyTo(parameters);
        publicTpm2B.CopyTo(parameters[privateTpm2B.Length..]);
        return Tpm2Frame.Build(TpmCc.Load, [parentHandle], parentName, parameters, parentAuthorization);
    }

    public static LoadResult ParseLoadResponse(ReadOnlySpan<byte> response, ITpmAuthorization parentAuthorization)
    {
        var reader = Parameters(TpmCc.Load, response, 1, parentAuthorization, out var handles);
        var name = reader.ReadSized().ToArray();
        reader.ExpectEnd("TPM2_Load response");
        return new LoadResult(handles[0], name);
    }

    public static byte[] BuildUnseal(uint itemHandle, ReadOnlySpan<byte> itemName, ITpmAuthorization itemAuthorization) =>
        Tpm2Frame.Build(TpmCc.Unseal, [itemHandle], itemName, [], itemAuthorization);

    /// <summary>Returns the sealed bytes; the caller owns and zeroes them.</summary>
    public static byte[] ParseUnsealResponse(ReadOnlySpan<byte> response, ITpmAuthorization itemAuthorization)
    {
        var parsed = Tpm2Frame.Parse(TpmCc.Unseal, response, 0, itemAuthorization);
        try
        {
            var reader = new Tpm2Reader(parsed.Parameters);
            var data = reader.ReadSized().ToArray();
            reader.ExpectEnd("TPM2_Unseal response");
            return data;
        }
        finally
        {
            Array.Clear(parsed.Parameters);
        }
    }

    /// <summary>FlushContext takes the handle as a parameter, not in the handle area (Part 3, 28.4).</summary>
    public static byte[] BuildFlushContext(uint handle)
    {
        Span<byte> parameters = stackalloc byte[4];
        var writer = new Tpm2Writer(parameters);
        writer.WriteUInt32(handle);
        return Tpm2Frame.Build(TpmCc.FlushContext, [], [], writer.Written, null);
    }

    public static void ParseFlushContextResponse(ReadOnlySpan<byte> response) => ExpectEmpty(TpmCc.FlushContext, response);

    /// <param name="encryptedSalt">TPM2B_ENCRYPTED_SECRET contents (for an ECC tpmKey: a marshalled TPMS_ECC_POINT), or empty when unsalted.</param>
    public static byte[] BuildStartAuthSession(uint tpmKey, uint bind, ReadOnlySpan<byte> nonceCaller, ReadOnlySpan<byte> encryptedSalt, TpmSe sessionType, TpmtSymDef symmetric, TpmAlg authHash)
    {
        Span<byte> parameters = stackalloc byte[512];
        var writer = new Tpm2Writer(parameters);
        writer.WriteSized(nonceCaller);
        writer.WriteSized(encryptedSalt);
        writer.WriteByte((byte)sessionType);
        symmetric.Marshal(ref writer);
        writer.WriteUInt16((ushort)authHash);
        return Tpm2Frame.Build(TpmCc.StartAuthSession, [tpmKey, bind], [], writer.Written, null);
    }

    public static StartAuthSessionResult ParseStartAuthSessionResponse(ReadOnlySpan<byte> response)
    {
        var reader = Parameters(TpmCc.StartAuthSession, response, 1, null, out var handles);
        var nonceTpm = reader.ReadSized().ToArray();
        reader.ExpectEnd("TPM2_StartAuthSession response");
        return new StartAuthSessionResult(handles[0], nonceTpm);
    }

    /// <param name="pcrDigest">Empty: the TPM uses the PCRs' current values; otherwise it must match them.</param>
    public static byte[] BuildPolicyPcr(uint policySession, ReadOnlySpan<byte> pcrDigest, TpmsPcrSelection selection)
    {
        Span<byte> parameters = stackalloc byte[128];
        var writer = new Tpm2Writer(parameters);
        writer.WriteSized(pcrDigest);
        TpmsPcrSelection.MarshalList(ref writer, [selection]);
        return Tpm2Frame.Build(TpmCc.PolicyPcr, [policySession], [], writer.Written, null);
    }

    public static void ParsePolicyPcrResponse(ReadOnlySpan<byte> response) => ExpectEmpty(TpmCc.PolicyPcr, response);

    public static byte[] BuildPolicyGetDigest(uint policySession) =>
        Tpm2Frame.Build(TpmCc.PolicyGetDigest, [policySession], [], [], null);

    public static byte[] ParsePolicyGetDigestResponse(ReadOnlySpan<byte> response)
    {
        var reader = Parameters(TpmCc.PolicyGetDigest, response, 0, null, out _);
        var digest = reader.ReadSized().ToArray();
        reader.ExpectEnd("TPM2_PolicyGetDigest response");
        return digest;
    }

    public static byte[] BuildPcrRead(TpmsPcrSelection selection)
    {
        Span<byte> parameters = stackalloc byte[64];
        var writer = new Tpm2Writer(parameters);
        TpmsPcrSelection.MarshalList(ref writer, [selection]);
        return Tpm2Frame.Build(TpmCc.PcrRead, [], [], writer.Written, null);
    }

    /// <summary>The TPM returns at most 8 digests per call; <see cref="PcrReadResult.Selections"/> says which.</summary>
    public static PcrReadResult ParsePcrReadResponse(ReadOnlySpan<byte> response)
    {
        var reader = Parameters(TpmCc.PcrRead, response, 0, null, out _);
        var updateCounter = reader.ReadUInt32();
        var selections = TpmsPcrSelection.UnmarshalList(ref reader);
        var count = reader.ReadUInt32();
        if (count > 8)
        {
            throw new TpmFormatException($"TPM2_PCR_Read returned {count} digests; TPML_DIGEST holds at most 8.");
        }

        var digests = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            digests[i] = reader.ReadSized().ToArray();
        }

        reader.ExpectEnd("TPM2_PCR_Read response");
        return new PcrReadResult(updateCounter, selections, digests);
    }

    /// <summary>Extends one bank of one PCR (TPML_DIGEST_VALUES with one TPMT_HA).</summary>
    public static byte[] BuildPcrExtend(int pcr, TpmAlg hash, ReadOnlySpan<byte> digest, ITpmAuthorization pcrAuthorization)
    {
        Span<byte> parameters = stackalloc byte[8 + digest.Length];
        var writer = new Tpm2Writer(parameters);
        writer.WriteUInt32(1);
        writer.WriteUInt16((ushort)hash);
        writer.WriteBytes(digest);
        var handle = (uint)pcr;
        return Tpm2Frame.Build(TpmCc.PcrExtend, [handle], Tpm2Frame.HandleName(handle), writer.Written, pcrAuthorization);
    }

    public static void ParsePcrExtendResponse(ReadOnlySpan<byte> response, ITpmAuthorization pcrAuthorization)
    {
        var reader = Parameters(TpmCc.PcrExtend, response, 0, pcrAuthorization, out _);
        reader.ExpectEnd("TPM2_PCR_Extend response");
    }

    /// <summary>TPM2B_SENSITIVE_CREATE (Part 2, 11.1.16): userAuth then data, inside a UINT16 size.</summary>
    private static void WriteSensitiveCreate(ref Tpm2Writer writer, ReadOnlySpan<byte> userAuth, ReadOnlySpan<byte> data)
    {
        var start = writer.BeginSized16();
        writer.WriteSized(userAuth);
        writer.WriteSized(data);
        writer.EndSized16(start);
    }

    // creationData (TPM2B_CREATION_DATA), creationHash (TPM2B_DIGEST), creationTicket (TPMT_TK_CREATION): not used.
    private static void SkipCreationOutputs(ref Tpm2Reader reader)
    {
        reader.ReadSized();
        reader.ReadSized();
        reader.ReadUInt16();
        reader.ReadUInt32();
        reader.ReadSized();
    }

    private static void ExpectEmpty(TpmCc command, ReadOnlySpan<byte> response)
    {
        var parsed = Tpm2Frame.Parse(command, response, 0, null);
        if (parsed.Parameters.Length != 0)
        {
            throw new TpmFormatException($"{Tpm2Frame.CommandName(command)} response has {parsed.Parameters.Length} unexpected parameter bytes.");
        }
    }

    private static Tpm2Reader Parameters(TpmCc command, ReadOnlySpan<byte> response, int handleCount, ITpmAuthorization? authorization, out uint[] handles)
    {
        var parsed = Tpm2Frame.Parse(command, response, handleCount, authorization);
        handles = parsed.Handles;
        return new Tpm2Reader(parsed.Parameters);
    }
}
