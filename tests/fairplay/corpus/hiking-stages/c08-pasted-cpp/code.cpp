#include <iostream>
#include <vector>
using namespace std;
int main(){
    long long N,K; cin>>N>>K;
    vector<long long> A(N);
    long long L=0,R=0;
    for(auto&x:A){cin>>x; L=max(L,x); R+=x;}
    while(L<R){
        long long M=(L+R)/2, parts=1, s=0;
        for(long long x:A){ if(s+x>M){parts++; s=0;} s+=x; }
        if(parts<=K) R=M; else L=M+1;
    }
    cout<<L<<endl;
}
