// The GEMM driver and the arm64 NEON micro-kernel against a triple loop, for all four transpose
// combinations and shapes that hit every edge of the blocking. Built for arm64 and run under
// qemu by scripts/check-arm64.sh (the host is x86-64).
#include "CNablaKernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
int main(void){
  int shapes[][3]={{1,1,1},{1,130,70},{3,200,100},{4,64,784},{5,7,3},{6,16,8},{13,33,17},{64,64,64},{150,70,300},{97,260,41},{200,180,520}};
  int fails=0;
  for(int s=0;s<11;s++) for(int t=0;t<4;t++){
    int m=shapes[s][0],n=shapes[s][1],k=shapes[s][2],ta=t&1,tb=t>>1;
    float*a=malloc(4*m*k),*b=malloc(4*k*n),*c=malloc(4*m*n);
    for(int i=0;i<m*k;i++)a[i]=(float)((i*37%101)-50)/50;
    for(int i=0;i<k*n;i++)b[i]=(float)((i*53%97)-48)/48;
    nabla_sgemm(ta,tb,m,n,k,1,a,ta?m:k,b,tb?k:n,0,c,n);
    double worst=0;
    for(int i=0;i<m;i++)for(int j=0;j<n;j++){double r=0;for(int p=0;p<k;p++){r+=(double)(ta?a[p*m+i]:a[i*k+p])*(tb?b[j*k+p]:b[p*n+j]);}
      double e=fabs(c[i*n+j]-r)/(1+fabs(r)); if(e>worst)worst=e;}
    if(worst>1e-4){fails++;printf("FAIL %dx%dx%d ta=%d tb=%d err=%g\n",m,n,k,ta,tb,worst);}
    free(a);free(b);free(c);
  }
  printf("%s: %d failures\n",nabla_gemm_kernel_name(),fails); return fails!=0;}
