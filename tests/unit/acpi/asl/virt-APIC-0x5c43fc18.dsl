/*
 * Intel ACPI Component Architecture
 * AML/ASL+ Disassembler version 20200925 (64-bit version)
 * Copyright (c) 2000 - 2020 Intel Corporation
 * 
 * Disassembly of ../virt/virt-APIC-0x5c43fc18.bin, Thu Dec  3 10:20:10 2026
 *
 * ACPI Data Table [APIC]
 *
 * Format: [HexOffset DecimalOffset ByteLength]  FieldName : FieldValue
 */

[000h 0000   4]                    Signature : "APIC"    [Multiple APIC Description Table (MADT)]
[004h 0004   4]                 Table Length : 00000108
[008h 0008   1]                     Revision : 04
[009h 0009   1]                     Checksum : FA
[00Ah 0010   6]                       Oem ID : "BOCHS "
[010h 0016   8]                 Oem Table ID : "BXPC    "
[018h 0024   4]                 Oem Revision : 00000001
[01Ch 0028   4]              Asl Compiler ID : "BXPC"
[020h 0032   4]        Asl Compiler Revision : 00000001

[024h 0036   4]           Local Apic Address : 00000000
[028h 0040   4]        Flags (decoded below) : 00000000
                         PC-AT Compatibility : 0

[02Ch 0044   1]                Subtable Type : 0C [Generic Interrupt Distributor]
[02Dh 0045   1]                       Length : 18
[02Eh 0046   2]                     Reserved : 0000
[030h 0048   4]        Local GIC Hardware ID : 00000000
[034h 0052   8]                 Base Address : 0000000008000000
[03Ch 0060   4]               Interrupt Base : 00000000
[040h 0064   1]                      Version : 03
[041h 0065   3]                     Reserved : 000000

[044h 0068   1]                Subtable Type : 0B [Generic Interrupt Controller]
[045h 0069   1]                       Length : 50
[046h 0070   2]                     Reserved : 0000
[048h 0072   4]         CPU Interface Number : 00000000
[04Ch 0076   4]                Processor UID : 00000000
[050h 0080   4]        Flags (decoded below) : 00000001
                           Processor Enabled : 1
          Performance Interrupt Trigger Mode : 0
          Virtual GIC Interrupt Trigger Mode : 0
[054h 0084   4]     Parking Protocol Version : 00000000
[058h 0088   4]        Performance Interrupt : 00000017
[05Ch 0092   8]               Parked Address : 0000000000000000
[064h 0100   8]                 Base Address : 0000000000000000
[06Ch 0108   8]     Virtual GIC Base Address : 0000000000000000
[074h 0116   8]  Hypervisor GIC Base Address : 0000000000000000
[07Ch 0124   4]        Virtual GIC Interrupt : 00000000
[080h 0128   8]   Redistributor Base Address : 0000000000000000
[088h 0136   8]                    ARM MPIDR : 0000000000000000
[090h 0144   1]             Efficiency Class : 00
[091h 0145   1]                     Reserved : 00
[092h 0146   2]       SPE Overflow Interrupt : 0000

[094h 0148   1]                Subtable Type : 0B [Generic Interrupt Controller]
[095h 0149   1]                       Length : 50
[096h 0150   2]                     Reserved : 0000
[098h 0152   4]         CPU Interface Number : 00000001
[09Ch 0156   4]                Processor UID : 00000001
[0A0h 0160   4]        Flags (decoded below) : 00000001
                           Processor Enabled : 1
          Performance Interrupt Trigger Mode : 0
          Virtual GIC Interrupt Trigger Mode : 0
[0A4h 0164   4]     Parking Protocol Version : 00000000
[0A8h 0168   4]        Performance Interrupt : 00000017
[0ACh 0172   8]               Parked Address : 0000000000000000
[0B4h 0180   8]                 Base Address : 0000000000000000
[0BCh 0188   8]     Virtual GIC Base Address : 0000000000000000
[0C4h 0196   8]  Hypervisor GIC Base Address : 0000000000000000
[0CCh 0204   4]        Virtual GIC Interrupt : 00000000
[0D0h 0208   8]   Redistributor Base Address : 0000000000000000
[0D8h 0216   8]                    ARM MPIDR : 0000000000000001
[0E0h 0224   1]             Efficiency Class : 00
[0E1h 0225   1]                     Reserved : 00
[0E2h 0226   2]       SPE Overflow Interrupt : 0000

[0E4h 0228   1]                Subtable Type : 0E [Generic Interrupt Redistributor]
[0E5h 0229   1]                       Length : 10
[0E6h 0230   2]                     Reserved : 0000
[0E8h 0232   8]                 Base Address : 00000000080A0000
[0F0h 0240   4]                       Length : 00F60000

[0F4h 0244   1]                Subtable Type : 0F [Generic Interrupt Translator]
[0F5h 0245   1]                       Length : 14
[0F6h 0246   2]                     Reserved : 0000
[0F8h 0248   4]               Translation ID : 00000000
[0FCh 0252   8]                 Base Address : 0000000008080000
[104h 0260   4]                     Reserved : 00000000

Raw Table Data: Length 264 (0x108)

    0000: 41 50 49 43 08 01 00 00 04 FA 42 4F 43 48 53 20  // APIC......BOCHS 
    0010: 42 58 50 43 20 20 20 20 01 00 00 00 42 58 50 43  // BXPC    ....BXPC
    0020: 01 00 00 00 00 00 00 00 00 00 00 00 0C 18 00 00  // ................
    0030: 00 00 00 00 00 00 00 08 00 00 00 00 00 00 00 00  // ................
    0040: 03 00 00 00 0B 50 00 00 00 00 00 00 00 00 00 00  // .....P..........
    0050: 01 00 00 00 00 00 00 00 17 00 00 00 00 00 00 00  // ................
    0060: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  // ................
    0070: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  // ................
    0080: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  // ................
    0090: 00 00 00 00 0B 50 00 00 01 00 00 00 01 00 00 00  // .....P..........
    00A0: 01 00 00 00 00 00 00 00 17 00 00 00 00 00 00 00  // ................
    00B0: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  // ................
    00C0: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  // ................
    00D0: 00 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00  // ................
    00E0: 00 00 00 00 0E 10 00 00 00 00 0A 08 00 00 00 00  // ................
    00F0: 00 00 F6 00 0F 14 00 00 00 00 00 00 00 00 08 08  // ................
    0100: 00 00 00 00 00 00 00 00                          // ........
